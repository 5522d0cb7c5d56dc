import type { InstanceUsage } from '@berth/contracts';

/** What GET /v1/instances/:id/stats answers: totals at the second reading, rates over the interval. */
export interface InstanceStats {
  intervalSec: number;
  cpu: {
    /** CPU time used over the interval, as a percentage of one CPU (200: two CPUs fully busy). */
    percent: number;
    /** The same, as a percentage of the instance's vCPUs (100: all of them busy). */
    percentOfVcpus: number;
    vcpus: number;
    usedSeconds: number;
  };
  memory: { usedBytes: number; limitBytes: number | null; percent: number | null };
  network: {
    rxBytes: number;
    txBytes: number;
    rxPackets: number;
    txPackets: number;
    rxBytesPerSec: number;
    txBytesPerSec: number;
    rxPacketsPerSec: number;
    txPacketsPerSec: number;
  };
  blockIo: {
    readBytes: number;
    writeBytes: number;
    readOps: number;
    writeOps: number;
    readBytesPerSec: number;
    writeBytesPerSec: number;
    readIops: number;
    writeIops: number;
  };
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * Rates from two readings of the same instance. A counter that went down (the instance restarted
 * between them) counts as no use rather than a negative rate.
 */
export function usageRates(first: InstanceUsage, second: InstanceUsage, vcpus: number): InstanceStats {
  const seconds = Math.max((second.monotonicMs - first.monotonicMs) / 1000, 1e-3);
  const rate = (key: keyof InstanceUsage) => {
    const a = first[key];
    const b = second[key];
    return typeof a === 'number' && typeof b === 'number' ? round(Math.max(0, b - a) / seconds) : 0;
  };
  const cpuPercent = round((100 * Math.max(0, second.cpuSeconds - first.cpuSeconds)) / seconds);
  const limit = second.memoryLimitBytes;
  return {
    intervalSec: round(seconds, 3),
    cpu: {
      percent: cpuPercent,
      percentOfVcpus: vcpus > 0 ? round(cpuPercent / vcpus) : 0,
      vcpus,
      usedSeconds: round(second.cpuSeconds, 3),
    },
    memory: {
      usedBytes: second.memoryBytes,
      limitBytes: limit,
      percent: limit ? round((100 * second.memoryBytes) / limit) : null,
    },
    network: {
      rxBytes: second.netRxBytes,
      txBytes: second.netTxBytes,
      rxPackets: second.netRxPackets,
      txPackets: second.netTxPackets,
      rxBytesPerSec: rate('netRxBytes'),
      txBytesPerSec: rate('netTxBytes'),
      rxPacketsPerSec: rate('netRxPackets'),
      txPacketsPerSec: rate('netTxPackets'),
    },
    blockIo: {
      readBytes: second.blockReadBytes,
      writeBytes: second.blockWriteBytes,
      readOps: second.blockReadOps,
      writeOps: second.blockWriteOps,
      readBytesPerSec: rate('blockReadBytes'),
      writeBytesPerSec: rate('blockWriteBytes'),
      readIops: rate('blockReadOps'),
      writeIops: rate('blockWriteOps'),
    },
  };
}
