import type { CpuPolicy } from '@berth/contracts';

/**
 * Capacity arithmetic. A host offers floor(total x allocation ratio) of vCPUs, RAM and disk, and its
 * dedicated CPUs (pcpus) one instance each, never overcommitted (as Nova's PCPU inventory).
 */
export interface Resources {
  /** Shared vCPUs. */
  vcpus: number;
  /** Dedicated host CPUs. */
  pcpus: number;
  ramMb: number;
  diskGb: number;
}

export const NO_RESOURCES: Resources = { vcpus: 0, pcpus: 0, ramMb: 0, diskGb: 0 };

export interface HostUsage {
  total: Resources;
  ratios: { cpu: number; ram: number; disk: number };
  used: Resources;
}

/** What an instance of this size takes from a host: its vCPUs are shared or dedicated, never both. */
export function resourcesOf(size: { vcpus: number; ramMb: number; diskGb: number; cpuPolicy: CpuPolicy }): Resources {
  const dedicated = size.cpuPolicy === 'dedicated';
  return {
    vcpus: dedicated ? 0 : size.vcpus,
    pcpus: dedicated ? size.vcpus : 0,
    ramMb: size.ramMb,
    diskGb: size.diskGb,
  };
}

export function schedulable(host: HostUsage): Resources {
  return {
    vcpus: Math.floor(host.total.vcpus * host.ratios.cpu),
    pcpus: host.total.pcpus,
    ramMb: Math.floor(host.total.ramMb * host.ratios.ram),
    diskGb: Math.floor(host.total.diskGb * host.ratios.disk),
  };
}

export function free(host: HostUsage): Resources {
  const limit = schedulable(host);
  return {
    vcpus: limit.vcpus - host.used.vcpus,
    pcpus: limit.pcpus - host.used.pcpus,
    ramMb: limit.ramMb - host.used.ramMb,
    diskGb: limit.diskGb - host.used.diskGb,
  };
}

export const RESOURCE_NAMES = ['vcpus', 'pcpus', 'ramMb', 'diskGb'] as const satisfies ReadonlyArray<keyof Resources>;

export function addResources(a: Resources, b: Resources, sign: 1 | -1 = 1): Resources {
  return {
    vcpus: a.vcpus + sign * b.vcpus,
    pcpus: a.pcpus + sign * b.pcpus,
    ramMb: a.ramMb + sign * b.ramMb,
    diskGb: a.diskGb + sign * b.diskGb,
  };
}

export function scaleResources(r: Resources, n: number): Resources {
  return { vcpus: r.vcpus * n, pcpus: r.pcpus * n, ramMb: r.ramMb * n, diskGb: r.diskGb * n };
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
    grow: { vcpus: up('vcpus'), pcpus: up('pcpus'), ramMb: up('ramMb'), diskGb: up('diskGb') },
    shrink: { vcpus: down('vcpus'), pcpus: down('pcpus'), ramMb: down('ramMb'), diskGb: down('diskGb') },
  };
}

const RESOURCE_LABELS: Readonly<Record<keyof Resources, string>> = {
  vcpus: 'shared vCPUs',
  pcpus: 'dedicated CPUs',
  ramMb: 'MB of RAM',
  diskGb: 'GB of disk',
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
