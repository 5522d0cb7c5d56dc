import type { HostFacts, InstanceKind } from '@berth/contracts';
import { statfs } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';

export interface HostFactsOptions {
  name: string;
  vlanRanges: string;
  /** What the host's drivers hold, read at each heartbeat. */
  cachedImages: () => Promise<string[]>;
  address: string;
  drivers: InstanceKind[];
  reservedRamMb: number;
  diskPath: string;
  agentVersion: string;
}

/** Reads this host's capacity: CPUs, RAM less the host's reserve, and the size of the instance disk. */
export async function readHostFacts(options: HostFactsOptions): Promise<HostFacts> {
  const disk = await statfs(options.diskPath);
  return {
    name: options.name,
    address: options.address,
    drivers: options.drivers,
    vcpus: cpus().length,
    ramMb: Math.max(0, Math.floor(totalmem() / 1024 / 1024) - options.reservedRamMb),
    diskGb: Math.floor((disk.blocks * disk.bsize) / 1024 ** 3),
    agentVersion: options.agentVersion,
    vlanRanges: options.vlanRanges,
    cachedImages: await options.cachedImages(),
  };
}
