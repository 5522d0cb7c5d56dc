import type { Mount } from './mountinfo';

export type CgroupVersion = 1 | 2;

/** The controllers Berth limits an instance with. */
export const CONTROLLERS = ['cpuset', 'cpu', 'memory', 'pids', 'io'] as const;
/** Controllers Berth only reads: CPU time is cpuacct's in v1 (its own hierarchy, or mounted with cpu). */
export type Controller = (typeof CONTROLLERS)[number] | 'cpuacct';

/** Where a process's cgroup for each controller lives on the host. */
export interface ProcessCgroups {
  version: CgroupVersion;
  dir(controller: Controller): string;
}

/**
 * Reads /proc/<pid>/cgroup against the host's cgroup mounts. Under cgroup v1 (and the hybrid layout,
 * where v2 is mounted but holds no controllers) each controller has its own hierarchy; under v2
 * one directory holds them all. Block IO is "blkio" in v1 and "io" in v2.
 */
export function processCgroups(procCgroup: string, mounts: readonly Mount[]): ProcessCgroups {
  const v1 = new Map<string, string>();
  let unified: string | null = null;
  for (const line of procCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, hierarchy, controllers, path] = m;
    if (hierarchy === '0' && controllers === '') unified = path ?? null;
    else for (const c of (controllers ?? '').split(',')) if (c) v1.set(c, path ?? '/');
  }
  const v1Name = (c: Controller) => (c === 'io' ? 'blkio' : c);
  if (CONTROLLERS.every((c) => v1.has(v1Name(c)))) {
    return {
      version: 1,
      dir: (c) => {
        const name = v1Name(c);
        const mount = mounts.find((mt) => mt.fsType === 'cgroup' && mt.superOptions.includes(name));
        if (!mount) throw new Error(`no cgroup v1 hierarchy mounted for ${name}`);
        return joinCgroup(mount, v1.get(name) ?? '/');
      },
    };
  }
  if (unified === null) throw new Error('the process is in no cgroup hierarchy Berth knows');
  const mount = mounts.find((mt) => mt.fsType === 'cgroup2');
  if (!mount) throw new Error('cgroup v2 is not mounted');
  const dir = joinCgroup(mount, unified);
  return { version: 2, dir: () => dir };
}

/** A cgroup path as seen from the mount's root (a mount of a subtree shows paths below its root). */
function joinCgroup(mount: Mount, path: string): string {
  const relative = mount.root !== '/' && path.startsWith(mount.root) ? path.slice(mount.root.length) : path;
  return `${mount.mountPoint}${relative === '/' ? '' : relative}`;
}
