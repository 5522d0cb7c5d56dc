import type { InstanceUsage } from '@berth/contracts';
import { usageRates } from './usage-rates';

const reading = (over: Partial<InstanceUsage>): InstanceUsage => ({
  monotonicMs: 0,
  cpuSeconds: 0,
  memoryBytes: 0,
  memoryLimitBytes: null,
  netRxBytes: 0,
  netTxBytes: 0,
  netRxPackets: 0,
  netTxPackets: 0,
  blockReadBytes: 0,
  blockWriteBytes: 0,
  blockReadOps: 0,
  blockWriteOps: 0,
  ...over,
});

describe('usageRates', () => {
  it('turns two readings 2 s apart into per-second rates and CPU percentages', () => {
    const stats = usageRates(
      reading({ monotonicMs: 1000, cpuSeconds: 10, netRxBytes: 1000, blockWriteOps: 4 }),
      reading({
        monotonicMs: 3000,
        cpuSeconds: 13,
        memoryBytes: 64 * 2 ** 20,
        memoryLimitBytes: 256 * 2 ** 20,
        netRxBytes: 5000,
        blockWriteOps: 404,
      }),
      2,
    );
    expect(stats.intervalSec).toBe(2);
    expect(stats.cpu).toEqual({ percent: 150, percentOfVcpus: 75, vcpus: 2, usedSeconds: 13 });
    expect(stats.memory).toEqual({ usedBytes: 64 * 2 ** 20, limitBytes: 256 * 2 ** 20, percent: 25 });
    expect(stats.network).toMatchObject({ rxBytes: 5000, rxBytesPerSec: 2000, txBytesPerSec: 0 });
    expect(stats.blockIo).toMatchObject({ writeOps: 404, writeIops: 200 });
  });

  it('counts a counter that went down (a restart between readings) as no use, and no limit as no percentage', () => {
    const stats = usageRates(
      reading({ monotonicMs: 0, cpuSeconds: 50, netTxBytes: 9000 }),
      reading({ monotonicMs: 1000, cpuSeconds: 1, netTxBytes: 10 }),
      1,
    );
    expect(stats.cpu.percent).toBe(0);
    expect(stats.network.txBytesPerSec).toBe(0);
    expect(stats.memory.percent).toBeNull();
  });
});
