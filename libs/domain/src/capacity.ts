import type { CpuPolicy, InstanceKind } from '@berth/contracts';

/**
 * Capacity arithmetic. A host offers floor(total x allocation ratio) of vCPUs, RAM and disk, its
 * dedicated CPUs (pcpus) one instance each, never overcommitted (as Nova's PCPU inventory), and its pids
 * (kernel.pid_max less what the host keeps for itself), never overcommitted either: the sum of the
 * instances' pids limits on a host stays within what its kernel can give, so no tenant's fork bomb, up
 * to its own limit, can leave the host unable to fork.
 */
export interface Resources {
  /** Shared vCPUs. */
  vcpus: number;
  /** Dedicated host CPUs. */
  pcpus: number;
  ramMb: number;
  diskGb: number;
  /** Processes and threads: a container's pids limit, a VM's QEMU threads. */
  pids: number;
}

export const NO_RESOURCES: Resources = { vcpus: 0, pcpus: 0, ramMb: 0, diskGb: 0, pids: 0 };

/**
 * What a VM takes of its host's pids: QEMU's own threads (one per vCPU, its I/O, RCU and VNC
 * workers), whatever its guest runs. Its guest's processes live in the guest's kernel, not the host's.
 */
export const VM_PIDS = 64;

/** An instance's size, as its flavor and its pids limit make it. */
export interface InstanceSize {
  kind: InstanceKind;
  vcpus: number;
  ramMb: number;
  diskGb: number;
  cpuPolicy: CpuPolicy;
  /** The container's pids limit (ignored for a VM). */
  pidsLimit: number;
}

export interface HostUsage {
  total: Resources;
  ratios: { cpu: number; ram: number; disk: number };
  used: Resources;
}

/** What an instance of this size takes from a host: its vCPUs are shared or dedicated, never both. */
export function resourcesOf(size: InstanceSize): Resources {
  const dedicated = size.cpuPolicy === 'dedicated';
  return {
    vcpus: dedicated ? 0 : size.vcpus,
    pcpus: dedicated ? size.vcpus : 0,
    ramMb: size.ramMb,
    diskGb: size.diskGb,
    pids: size.kind === 'vm' ? VM_PIDS : size.pidsLimit,
  };
}

export function schedulable(host: HostUsage): Resources {
  return {
    vcpus: Math.floor(host.total.vcpus * host.ratios.cpu),
    pcpus: host.total.pcpus,
    ramMb: Math.floor(host.total.ramMb * host.ratios.ram),
    diskGb: Math.floor(host.total.diskGb * host.ratios.disk),
    pids: host.total.pids,
  };
}

export function free(host: HostUsage): Resources {
  const limit = schedulable(host);
  return {
    vcpus: limit.vcpus - host.used.vcpus,
    pcpus: limit.pcpus - host.used.pcpus,
    ramMb: limit.ramMb - host.used.ramMb,
    diskGb: limit.diskGb - host.used.diskGb,
    pids: limit.pids - host.used.pids,
  };
}

export const RESOURCE_NAMES = ['vcpus', 'pcpus', 'ramMb', 'diskGb', 'pids'] as const satisfies ReadonlyArray<
  keyof Resources
>;

export function addResources(a: Resources, b: Resources, sign: 1 | -1 = 1): Resources {
  return {
    vcpus: a.vcpus + sign * b.vcpus,
    pcpus: a.pcpus + sign * b.pcpus,
    ramMb: a.ramMb + sign * b.ramMb,
    diskGb: a.diskGb + sign * b.diskGb,
    pids: a.pids + sign * b.pids,
  };
}

export function scaleResources(r: Resources, n: number): Resources {
  return { vcpus: r.vcpus * n, pcpus: r.pcpus * n, ramMb: r.ramMb * n, diskGb: r.diskGb * n, pids: r.pids * n };
}

/**
 * A live resize from `from` to `to` on the same host. The growth is claimed when it is asked for, so
 * the allocation holds the larger of the two while the host applies it; the shrink is given back
 * only once the host confirms (until then the instance may still use it); a failure gives the
 * growth back.
 */
export interface ResizePlan {
  grow: Resources;
  shrink: Resources;
}

export function planResize(from: Resources, to: Resources): ResizePlan {
  const up = (k: keyof Resources) => Math.max(0, to[k] - from[k]);
  const down = (k: keyof Resources) => Math.max(0, from[k] - to[k]);
  return {
    grow: { vcpus: up('vcpus'), pcpus: up('pcpus'), ramMb: up('ramMb'), diskGb: up('diskGb'), pids: up('pids') },
    shrink: {
      vcpus: down('vcpus'),
      pcpus: down('pcpus'),
      ramMb: down('ramMb'),
      diskGb: down('diskGb'),
      pids: down('pids'),
    },
  };
}

const RESOURCE_LABELS: Readonly<Record<keyof Resources, string>> = {
  vcpus: 'shared vCPUs',
  pcpus: 'dedicated CPUs',
  ramMb: 'MB of RAM',
  diskGb: 'GB of disk',
  pids: 'pids',
};

/** Why `need` does not fit in `room`, one phrase per short resource: "2 more dedicated CPUs (1 free)". */
export function shortfalls(room: Resources, need: Resources): string[] {
  return RESOURCE_NAMES.filter((k) => need[k] > room[k]).map(
    (k) => `${need[k]} more ${RESOURCE_LABELS[k]} (${Math.max(0, room[k])} free)`,
  );
}

/**
 * The CPUs an instance keeps through a live resize: a dedicated instance that stays dedicated keeps
 * those it has held longest (its pinned list is in the order it got them), up to its new size, so
 * a grow and a shrink back return it to where it started; any other keeps none.
 */
export function keptCpus(pinned: readonly number[], toDedicated: boolean, toVcpus: number): number[] {
  return toDedicated ? pinned.slice(0, toVcpus) : [];
}
