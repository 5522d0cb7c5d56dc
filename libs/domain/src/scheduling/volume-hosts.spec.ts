import { explainNoValidHost, mainRefusal } from './explain';
import { volumeHostChoice, type VolumeHost } from './volume-hosts';

const host = (name: string, over: Partial<VolumeHost> = {}): VolumeHost => ({
  id: `id-${name}`,
  name,
  zone: 'nova',
  enabled: true,
  up: true,
  backends: ['file'],
  freeDiskGb: 100,
  ...over,
});

describe("a volume's host", () => {
  it('takes the host with the most disk left first, and says why each other was turned down', () => {
    const { candidates, rejected } = volumeHostChoice(
      [
        host('small', { freeDiskGb: 20 }),
        host('big', { freeDiskGb: 500 }),
        host('off', { enabled: false }),
        host('gone', { up: false }),
        host('bare', { backends: [] }),
        host('far', { zone: 'z2' }),
        host('full', { freeDiskGb: 5 }),
      ],
      { backend: 'file', sizeGb: 10, zone: 'nova' },
    );
    expect(candidates.map((h) => h.name)).toEqual(['big', 'small']);
    expect(explainNoValidHost(rejected)).toBe(
      'No valid host: off: ComputeEnabled: host is disabled; gone: ComputeEnabled: host is down (no recent heartbeat); ' +
        'bare: VolumeBackend: host offers no file volumes; far: AvailabilityZone: host is in zone z2, not nova; ' +
        'full: DiskCapacity: diskGb needs 10, 5 free',
    );
  });

  it('names the main reason when no host can hold it', () => {
    const { candidates, rejected } = volumeHostChoice([host('a', { freeDiskGb: 1 }), host('b', { freeDiskGb: 2 })], {
      backend: 'file',
      sizeGb: 10,
      zone: null,
    });
    expect(candidates).toEqual([]);
    expect(mainRefusal(rejected)).toBe('DiskCapacity');
  });
});
