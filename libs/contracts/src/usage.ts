import type { CONTRACT_VERSION } from './jobs';
import type { InstanceSpec } from './instance';

/**
 * An instance's resource counters at one moment, read on its host: the instance's own numbers
 * (its cgroup, its port, its domain), never the host's. Counters only grow while it runs.
 * Network directions are the instance's: rx is what it received.
 */
export interface InstanceUsage {
  /** When it was read, in milliseconds of the host's monotonic clock (only differences mean anything). */
  monotonicMs: number;
  /** CPU time used, all its CPUs together. */
  cpuSeconds: number;
  /** Memory in use, without reclaimable page cache (the working set, as `docker stats` counts it). */
  memoryBytes: number;
  /** null: no limit. */
  memoryLimitBytes: number | null;
  netRxBytes: number;
  netTxBytes: number;
  netRxPackets: number;
  netTxPackets: number;
  blockReadBytes: number;
  blockWriteBytes: number;
  blockReadOps: number;
  blockWriteOps: number;
}

/** API -> one compute host, answered at once: two readings of an instance's counters `intervalMs` apart. */
export interface InstanceStatsQuery {
  v: typeof CONTRACT_VERSION;
  type: 'instance.stats';
  instance: InstanceSpec;
  intervalMs: number;
}
export const INSTANCE_STATS = 'instance.stats';

/** The answer to an InstanceStatsQuery; null readings when the instance does not run. */
export interface InstanceStatsAnswer {
  first: InstanceUsage | null;
  second: InstanceUsage | null;
}
