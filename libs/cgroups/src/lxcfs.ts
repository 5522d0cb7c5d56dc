import { access, readFile } from 'node:fs/promises';
import { parseMountinfo } from './mountinfo';

/** The files lxcfs virtualises, each bind-mounted read-only over the same path inside an instance. */
const LXCFS_FILES = [
  'proc/cpuinfo',
  'proc/meminfo',
  'proc/stat',
  'proc/uptime',
  'proc/loadavg',
  'proc/diskstats',
  'proc/swaps',
  'sys/devices/system/cpu/online',
] as const;

/** A bind of an lxcfs file over its path inside the instance. */
export interface LxcfsBind {
  source: string;
  target: string;
}

/**
 * The binds that give an instance its own /proc view, or null when lxcfs is not mounted at `root`
 * (a host without it degrades to the host's view). Only files this lxcfs serves are listed.
 */
export async function lxcfsBinds(root: string): Promise<LxcfsBind[] | null> {
  const mounts = parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));
  if (!mounts.some((m) => m.mountPoint === root && m.fsType === 'fuse.lxcfs')) return null;
  const binds: LxcfsBind[] = [];
  for (const file of LXCFS_FILES) {
    const source = `${root}/${file}`;
    const served = await access(source).then(
      () => true,
      () => false,
    );
    if (served) binds.push({ source, target: `/${file}` });
  }
  return binds.some((b) => b.target === '/proc/meminfo') ? binds : null;
}
