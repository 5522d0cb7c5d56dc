/**
 * Resource limits: what an instance is promised (its flavor, with per-instance overrides) and what
 * its host read back from the kernel and OVS after applying them. Both drivers speak this vocabulary:
 * a container maps it onto cgroups, a VM onto libvirt's cputune, memtune, blkiotune and bandwidth.
 */

export const CPU_POLICIES = ['shared', 'dedicated'] as const;
/** shared: floats over the host's shared CPUs under a CPU-time quota; dedicated: pinned to whole host CPUs. */
export type CpuPolicy = (typeof CPU_POLICIES)[number];

/** The throttles a flavor sets and an instance may override within the flavor's bounds. null: no limit. */
export interface Throttles {
  /** Percent of its vCPUs' time a shared instance may use (1-100). Ignored for dedicated CPUs. */
  cpuQuota: number;
  pidsLimit: number;
  diskReadIops: number | null;
  diskWriteIops: number | null;
  /** Bytes per second. */
  diskReadBps: number | null;
  diskWriteBps: number | null;
  /**
   * The instance's share of its disk when instances contend for it (100-1000; the kernel's default is
   * 100): BFQ's weight on a container's cgroup, libvirt's blkiotune weight for a VM. It works only where
   * the disk's IO scheduler is BFQ.
   */
  diskWeight: number | null;
  /** Traffic to the instance, Mbit/s (OVS QoS on its port). */
  netIngressMbps: number | null;
  /** Traffic from the instance, Mbit/s (an OpenFlow meter, or ingress policing on a kernel datapath). */
  netEgressMbps: number | null;
}

export const THROTTLES = [
  'cpuQuota',
  'pidsLimit',
  'diskReadIops',
  'diskWriteIops',
  'diskReadBps',
  'diskWriteBps',
  'diskWeight',
  'netIngressMbps',
  'netEgressMbps',
] as const satisfies ReadonlyArray<keyof Throttles>;
export type ThrottleName = (typeof THROTTLES)[number];

/** Everything a host applies to an instance: its size, its CPU placement and its throttles. */
export interface InstanceLimits extends Throttles {
  vcpus: number;
  ramMb: number;
  cpuPolicy: CpuPolicy;
  /** The host CPUs a dedicated instance owns (exactly `vcpus` of them); empty for shared. */
  pinnedCpus: number[];
}

/**
 * What the host read back after applying limits, in the same units as InstanceLimits, so each
 * field can be compared with what was asked. Read from cgroup files, tc and OVS, never from config.
 */
export interface AppliedLimits {
  /** The CPUs the instance may run on, as the kernel lists them ("0-1,4"). */
  cpuset: string;
  /** CPU time cap in CPUs (cfs quota / period); null when uncapped. */
  cpus: number | null;
  /** null: no memory limit. */
  ramMb: number | null;
  pidsLimit: number | null;
  diskReadIops: number | null;
  diskWriteIops: number | null;
  diskReadBps: number | null;
  diskWriteBps: number | null;
  /** The disk weight in effect (100 when none was set); null when the host has no IO weight control. */
  diskWeight: number | null;
  /** Null while the instance has no port plugged (stopped). */
  netIngressMbps: number | null;
  netEgressMbps: number | null;
  /** What /proc shows inside: the container's own limits (lxcfs), the host's, or a VM's own kernel (guest). */
  procView: 'lxcfs' | 'host' | 'guest';
  readAt: string;
}
