import type { DriverCapability, HostFacts, InstanceKind, VolumeBackendName } from '@berth/contracts';
import { lxcfsBinds } from '@berth/cgroups';
import { formatCpuList, type HostCpuSets } from '@berth/domain';
import { readdir, readFile, statfs, writeFile } from 'node:fs/promises';
import { totalmem } from 'node:os';

export interface HostFactsOptions {
  name: string;
  vlanRanges: string;
  /** What the host's drivers hold, read at each heartbeat. */
  cachedImages: () => Promise<string[]>;
  /** The kinds whose hypervisor did not answer when `cachedImages` asked it. */
  unavailable: () => InstanceKind[];
  address: string;
  drivers: InstanceKind[];
  reservedRamMb: number;
  /** Pids kept for the host itself: instances are offered kernel.pid_max less these. */
  reservedPids: number;
  diskPath: string;
  agentVersion: string;
  cpuSets: HostCpuSets;
  /** Where lxcfs is mounted, or null when the operator turned it off. */
  lxcfsPath: string | null;
  /** How the host's drivers keep instances apart (each driver's confinement, merged). */
  confinement: () => Promise<string[]>;
  /** Each driver's capabilities, by the kind it runs. */
  capabilities: Partial<Record<InstanceKind, DriverCapability[]>>;
  /** The volume backends this host offers. */
  volumeBackends: VolumeBackendName[];
}

const PID_MAX = '/proc/sys/kernel/pid_max';

export async function readPidMax(): Promise<number> {
  return Number((await readFile(PID_MAX, 'utf8')).trim());
}

/**
 * Raises kernel.pid_max to `wanted` if it is lower (0: leave it); returns what the kernel then holds. A
 * host that refuses (a container without the right) keeps its own, which the heartbeat reports.
 */
export async function raisePidMax(wanted: number): Promise<{ before: number; after: number }> {
  const before = await readPidMax();
  if (wanted > before) await writeFile(PID_MAX, `${wanted}\n`).catch(() => undefined);
  return { before, after: await readPidMax() };
}

/** The newest kernel in /boot, which the KVM probe boots; null when there is none. */
export async function newestKernel(): Promise<string | null> {
  const kernels = (await readdir('/boot').catch(() => [] as string[])).filter((f) => f.startsWith('vmlinuz-'));
  const newest = kernels.sort((a, b) => a.localeCompare(b, undefined, { numeric: true })).pop();
  return newest ? `/boot/${newest}` : null;
}

/** The CPUs the kernel has online, as it lists them ("0-3"). */
export async function onlineCpus(): Promise<string> {
  return (await readFile('/sys/devices/system/cpu/online', 'utf8')).trim();
}

/**
 * Reads this host's capacity: its shared and dedicated CPU pools, RAM and pids less the host's reserves,
 * the size of the instance disk, and whether lxcfs serves instances their own /proc.
 */
export async function readHostFacts(options: HostFactsOptions): Promise<HostFacts> {
  const disk = await statfs(options.diskPath);
  const pidMax = await readPidMax();
  const { shared, dedicated } = options.cpuSets;
  return {
    name: options.name,
    address: options.address,
    drivers: options.drivers,
    vcpus: shared.length,
    pcpus: dedicated.length,
    cpuSharedSet: formatCpuList(shared),
    cpuDedicatedSet: formatCpuList(dedicated),
    lxcfs: options.lxcfsPath !== null && (await lxcfsBinds(options.lxcfsPath)) !== null,
    ramMb: Math.max(0, Math.floor(totalmem() / 1024 / 1024) - options.reservedRamMb),
    diskGb: Math.floor((disk.blocks * disk.bsize) / 1024 ** 3),
    agentVersion: options.agentVersion,
    vlanRanges: options.vlanRanges,
    cachedImages: await options.cachedImages(),
    unavailable: options.unavailable(),
    confinement: await options.confinement(),
    pidMax,
    pids: Math.max(0, pidMax - options.reservedPids),
    capabilities: options.capabilities,
    volumeBackends: options.volumeBackends,
  };
}
