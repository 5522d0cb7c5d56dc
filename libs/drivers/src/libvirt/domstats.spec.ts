import { usageOfDomstats } from './domstats';

describe('usageOfDomstats', () => {
  it('reads CPU, memory, both disks and the interface of virsh domstats', () => {
    const text = [
      "Domain: 'berth-0b6e'",
      '  cpu.time=2500000000',
      '  cpu.user=1000000000',
      '  balloon.current=262144',
      '  balloon.maximum=262144',
      '  balloon.rss=131072',
      '  net.count=1',
      '  net.0.name=bvt0b6e1234abcd',
      '  net.0.rx.bytes=1000',
      '  net.0.rx.pkts=10',
      '  net.0.tx.bytes=2000',
      '  net.0.tx.pkts=20',
      '  block.count=2',
      '  block.0.name=vda',
      '  block.0.rd.reqs=3',
      '  block.0.rd.bytes=4096',
      '  block.0.wr.reqs=5',
      '  block.0.wr.bytes=8192',
      '  block.1.name=vdb',
      '  block.1.rd.reqs=1',
      '  block.1.rd.bytes=512',
      '',
    ].join('\n');
    expect(usageOfDomstats(text, 7)).toEqual({
      monotonicMs: 7,
      cpuSeconds: 2.5,
      memoryBytes: 131072 * 1024,
      memoryLimitBytes: 262144 * 1024,
      netRxBytes: 1000,
      netTxBytes: 2000,
      netRxPackets: 10,
      netTxPackets: 20,
      blockReadBytes: 4608,
      blockWriteBytes: 8192,
      blockReadOps: 4,
      blockWriteOps: 5,
    });
  });

  it('falls back to the balloon size without rss, and to zeros without interfaces or disks', () => {
    const usage = usageOfDomstats("Domain: 'x'\n  cpu.time=0\n  balloon.current=1024\n", 0);
    expect(usage).toMatchObject({ memoryBytes: 1024 * 1024, memoryLimitBytes: null, netRxBytes: 0, blockWriteOps: 0 });
  });
});
