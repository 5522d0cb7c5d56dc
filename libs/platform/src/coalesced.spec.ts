import { Coalesced } from './coalesced';

describe('Coalesced', () => {
  it('runs once per burst of kicks, again if kicked while running, and not after stop', async () => {
    let runs = 0;
    let release!: () => void;
    const work = new Coalesced(async () => {
      runs += 1;
      if (runs === 1) await new Promise<void>((r) => (release = r));
    });
    work.kick();
    work.kick();
    work.kick();
    expect(runs).toBe(1);
    release();
    await new Promise((r) => setTimeout(r, 0));
    await work.stop();
    expect(runs).toBe(2);
    work.kick();
    await new Promise((r) => setTimeout(r, 0));
    expect(runs).toBe(2);
  });
});
