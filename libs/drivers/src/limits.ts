import type { AppliedLimits, InstanceLimits } from '@berth/contracts';
import { formatCpuList, parseCpuList } from '@berth/domain';
import type { PortRates } from '@berth/network';

/**
 * What every driver applies the same way, and how every driver checks what it read back against
 * what was asked: a limit is "applied" only when the host holds it.
 */

/** CFS period: 100 ms, the kernel's default. A quota of one period is one CPU's time. */
export const CPU_PERIOD_US = 100_000;

/** The CPUs the instance may run on: its own for dedicated, the host's shared set otherwise. */
export function cpusetOf(limits: InstanceLimits, sharedCpus: string): string {
  if (limits.cpuPolicy === 'dedicated') return formatCpuList(limits.pinnedCpus);
  return formatCpuList(parseCpuList(sharedCpus) ?? []);
}

/** CFS quota: a shared instance gets cpuQuota percent of its vCPUs' time; a dedicated one its CPUs, uncapped. */
export function cpuQuotaUs(limits: InstanceLimits): number | null {
  if (limits.cpuPolicy === 'dedicated') return null;
  return Math.round((limits.vcpus * limits.cpuQuota * CPU_PERIOD_US) / 100);
}

/** The instance's port rates, which both drivers set as OVS QoS on its veth or tap. */
export function portRatesOf(limits: InstanceLimits): PortRates {
  return { ingressMbps: limits.netIngressMbps, egressMbps: limits.netEgressMbps };
}

/** What a host can hold for an instance besides its size: which limits it applies at all. */
export interface HostLimitKinds {
  /** Kernel CPU list that shared instances float over. */
  sharedCpus: string;
  /** Block IO throttles (false: no disk to throttle). */
  diskThrottles: boolean;
  /** A pids limit (containers; a VM's processes are its guest's). */
  pidsLimits: boolean;
  /** IO weight control (BFQ or io.weight); without it an unset weight reads back as none. */
  diskWeight: boolean;
}

/** The IO weight an instance has when its flavor sets none: the kernel's default. */
export const DEFAULT_DISK_WEIGHT = 100;

export type Comparable = Omit<AppliedLimits, 'readAt' | 'procView'>;

/** What the host must hold for these limits; `plugged` says whether the port exists. */
export function expectedApplied(limits: InstanceLimits, host: HostLimitKinds, plugged: boolean): Comparable {
  const quota = cpuQuotaUs(limits);
  const disk = (v: number | null) => (host.diskThrottles ? v : null);
  const net = (v: number | null) => (plugged ? v : null);
  return {
    cpuset: cpusetOf(limits, host.sharedCpus),
    cpus: quota === null ? null : quota / CPU_PERIOD_US,
    ramMb: limits.ramMb,
    pidsLimit: host.pidsLimits ? limits.pidsLimit : null,
    diskReadIops: disk(limits.diskReadIops),
    diskWriteIops: disk(limits.diskWriteIops),
    diskReadBps: disk(limits.diskReadBps),
    diskWriteBps: disk(limits.diskWriteBps),
    diskWeight: limits.diskWeight ?? (host.diskWeight ? DEFAULT_DISK_WEIGHT : null),
    netIngressMbps: net(limits.netIngressMbps),
    netEgressMbps: net(limits.netEgressMbps),
  };
}

/** Each field where what was read differs from what was asked, as "cpuset is 0-1, asked 1". */
export function mismatches(expected: Comparable, applied: AppliedLimits): string[] {
  const show = (k: keyof Comparable, v: string | number | null) =>
    v !== null ? String(v) : k === 'diskWeight' ? 'not available on this host' : 'unlimited';
  return (Object.keys(expected) as Array<keyof Comparable>)
    .filter((k) => !sameValue(expected[k], applied[k]))
    .map((k) => `${k} is ${show(k, applied[k])}, asked ${show(k, expected[k])}`);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) < 1e-9;
  return a === b;
}
