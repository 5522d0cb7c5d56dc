import { LayerProgress } from './layer-progress';

describe('LayerProgress', () => {
  it('sums the bytes and layers of a push, counting layers the registry already had as done', () => {
    const p = new LayerProgress('pushed');
    p.add({ id: 'aaaaaaaaaaaa', status: 'Pushing', progressDetail: { current: 1024 * 1024, total: 4 * 1024 * 1024 } });
    p.add({ id: 'bbbbbbbbbbbb', status: 'Layer already exists' });
    p.add({ status: 'latest: digest: sha256:abc size: 527' });
    expect(p.describe()).toBe('1.0 of 4.0 MB (25%), 1 of 2 layers');
    p.add({ id: 'aaaaaaaaaaaa', status: 'Pushed' });
    expect(p.describe(true)).toBe('pushed 4.0 of 4.0 MB (100%), 2 of 2 layers');
  });

  it('ignores events that name no layer, such as the tag line of a push', () => {
    const p = new LayerProgress('pulled');
    p.add({ id: 'latest', status: 'Pulling from berth-snapshots/x' });
    expect(p.describe()).toBe('0.0 of 0.0 MB, 0 of 0 layers');
  });
});
