import { FailpointError, Failpoints } from './failpoints';

describe('Failpoints', () => {
  it('throws at a point armed by name and passes the others', async () => {
    const points = Failpoints.parse('a, b=throw');
    await expect(points.check('a')).rejects.toBeInstanceOf(FailpointError);
    await expect(points.check('b')).rejects.toThrow('injected failure at b');
    await expect(points.check('c')).resolves.toBeUndefined();
    expect(points.list()).toEqual(['a', 'b']);
  });

  it('never returns from a point armed to hang', async () => {
    const hung: string[] = [];
    const points = Failpoints.parse('x=hang', (name) => hung.push(name));
    const outcome = await Promise.race([
      points.check('x').then(() => 'returned'),
      new Promise((done) => setTimeout(() => done('still waiting'), 50)),
    ]);
    expect(outcome).toBe('still waiting');
    expect(hung).toEqual(['x']);
    expect(points.list()).toEqual(['x=hang']);
  });

  it('refuses an unknown action', () => {
    expect(() => Failpoints.parse('x=explode')).toThrow('failpoint x: unknown action explode');
  });
});
