import type { AppliedLimits, InstanceLimits } from '@berth/contracts';
import type { BlockDevice, CgroupLimits, IoThrottle } from '@berth/cgroups';
import { formatCpuList, parseCpuList } from '@berth/domain';
import type { PortRates } from '@berth/network';
import { cpuQuotaUs, cpusetOf, CPU_PERIOD_US } from '../limits';

const MIB = 1024 * 1024;

/** What an instance's limits depend on besides the instance: the host's CPU sets and its disk. */
export interface HostLimitContext {
  /** Kernel CPU list that shared instances float over. */
  sharedCpus: string;
  /** The disk under Docker's data root, which block IO throttles apply to; null if there is none. */
  blockDevice: BlockDevice | null;
}

export function ioThrottleOf(limits: InstanceLimits): IoThrottle {
  return {
    readBps: limits.diskReadBps,
    writeBps: limits.diskWriteBps,
    readIops: limits.diskReadIops,
    writeIops: limits.diskWriteIops,
  };
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
    CpusetCpus: cpusetOf(limits, ctx.sharedCpus),
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
    diskWeight: cg.ioWeight,
    netIngressMbps: rates?.ingressMbps ?? null,
    netEgressMbps: rates?.egressMbps ?? null,
    procView,
    readAt: new Date().toISOString(),
  };
}
