import type { AppliedLimits, InstanceLimits } from '@berth/contracts';
import type { BlockDevice, CgroupLimits, IoThrottle } from '@berth/cgroups';
import { formatCpuList, parseCpuList } from '@berth/domain';
import type { PortRates } from '@berth/network';

/** CFS period: 100 ms, the kernel's default. A quota of one period is one CPU's time. */
export const CPU_PERIOD_US = 100_000;
const MIB = 1024 * 1024;

/** What an instance's limits depend on besides the instance: the host's CPU sets and its disk. */
export interface HostLimitContext {
  /** Kernel CPU list that shared instances float over. */
  sharedCpus: string;
  /** The disk under Docker's data root, which block IO throttles apply to; null if there is none. */
  blockDevice: BlockDevice | null;
}

/** The CPUs the instance may run on: its own for dedicated, the host's shared set otherwise. */
export function cpusetOf(limits: InstanceLimits, ctx: HostLimitContext): string {
  if (limits.cpuPolicy === 'dedicated') return formatCpuList(limits.pinnedCpus);
  return formatCpuList(parseCpuList(ctx.sharedCpus) ?? []);
}

/** CFS quota: a shared instance gets cpuQuota percent of its vCPUs' time; a dedicated one its CPUs, uncapped. */
export function cpuQuotaUs(limits: InstanceLimits): number | null {
  if (limits.cpuPolicy === 'dedicated') return null;
  return Math.round((limits.vcpus * limits.cpuQuota * CPU_PERIOD_US) / 100);
}

export function ioThrottleOf(limits: InstanceLimits): IoThrottle {
  return {
    readBps: limits.diskReadBps,
    writeBps: limits.diskWriteBps,
    readIops: limits.diskReadIops,
    writeIops: limits.diskWriteIops,
  };
}

export function portRatesOf(limits: InstanceLimits): PortRates {
  return { ingressMbps: limits.netIngressMbps, egressMbps: limits.netEgressMbps };
}

export function throttlesDisk(limits: InstanceLimits): boolean {
  return Object.values(ioThrottleOf(limits)).some((v) => v !== null);
}

/**
 * The resources Docker sets at create and changes live with `docker update`: cpuset, CFS quota,
 * shares by size (as Nova's cpu_shares = 1024 x vCPUs), memory without swap, pids. Block IO is not
 * among them: Docker 20.10 cannot update it, so the agent writes the cgroup files itself.
 */
export function dockerResources(limits: InstanceLimits, ctx: HostLimitContext) {
  const memory = limits.ramMb * MIB;
  return {
    CpusetCpus: cpusetOf(limits, ctx),
    CpuPeriod: CPU_PERIOD_US,
    CpuQuota: cpuQuotaUs(limits) ?? -1,
    CpuShares: Math.min(262_144, 1024 * limits.vcpus),
    Memory: memory,
    MemorySwap: memory,
    PidsLimit: limits.pidsLimit,
  };
}

/** Block IO throttles for container create (by device path; zero-valued entries are left out). */
export function dockerBlkio(limits: InstanceLimits, device: BlockDevice | null) {
  const io = ioThrottleOf(limits);
  if (!device) return {};
  const entry = (rate: number | null) => (rate === null ? [] : [{ Path: device.path, Rate: rate }]);
  return {
    BlkioDeviceReadBps: entry(io.readBps),
    BlkioDeviceWriteBps: entry(io.writeBps),
    BlkioDeviceReadIOps: entry(io.readIops),
    BlkioDeviceWriteIOps: entry(io.writeIops),
  };
}

type Comparable = Omit<AppliedLimits, 'readAt' | 'procView'>;

/** What the kernel and OVS must hold for these limits; `plugged` says whether the port exists. */
export function expectedApplied(limits: InstanceLimits, ctx: HostLimitContext, plugged: boolean): Comparable {
  const quota = cpuQuotaUs(limits);
  return {
    cpuset: cpusetOf(limits, ctx),
    cpus: quota === null ? null : quota / CPU_PERIOD_US,
    ramMb: limits.ramMb,
    pidsLimit: limits.pidsLimit,
    diskReadIops: ctx.blockDevice ? limits.diskReadIops : null,
    diskWriteIops: ctx.blockDevice ? limits.diskWriteIops : null,
    diskReadBps: ctx.blockDevice ? limits.diskReadBps : null,
    diskWriteBps: ctx.blockDevice ? limits.diskWriteBps : null,
    netIngressMbps: plugged ? limits.netIngressMbps : null,
    netEgressMbps: plugged ? limits.netEgressMbps : null,
  };
}

/** The applied limits in the API's units, from what was read. */
export function appliedFrom(
  cg: CgroupLimits,
  rates: PortRates | null,
  procView: AppliedLimits['procView'],
): AppliedLimits {
  return {
    cpuset: formatCpuList(parseCpuList(cg.cpuset) ?? []),
    cpus: cg.cpuQuotaUs === null ? null : cg.cpuQuotaUs / cg.cpuPeriodUs,
    ramMb: cg.memoryBytes === null ? null : cg.memoryBytes / MIB,
    pidsLimit: cg.pidsMax,
    diskReadIops: cg.io.readIops,
    diskWriteIops: cg.io.writeIops,
    diskReadBps: cg.io.readBps,
    diskWriteBps: cg.io.writeBps,
    netIngressMbps: rates?.ingressMbps ?? null,
    netEgressMbps: rates?.egressMbps ?? null,
    procView,
    readAt: new Date().toISOString(),
  };
}

/** Each field where what was read differs from what was asked, as "cpuset is 0-1, asked 1". */
export function mismatches(expected: Comparable, applied: AppliedLimits): string[] {
  const show = (v: string | number | null) => (v === null ? 'unlimited' : String(v));
  return (Object.keys(expected) as Array<keyof Comparable>)
    .filter((k) => !sameValue(expected[k], applied[k]))
    .map((k) => `${k} is ${show(applied[k])}, asked ${show(expected[k])}`);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) < 1e-9;
  return a === b;
}
