/** Capacity arithmetic. A host offers floor(total x allocation ratio) of each resource. */
export interface Resources {
  vcpus: number;
  ramMb: number;
  diskGb: number;
}

export interface HostUsage {
  total: Resources;
  ratios: { cpu: number; ram: number; disk: number };
  used: Resources;
}

export function schedulable(host: HostUsage): Resources {
  return {
    vcpus: Math.floor(host.total.vcpus * host.ratios.cpu),
    ramMb: Math.floor(host.total.ramMb * host.ratios.ram),
    diskGb: Math.floor(host.total.diskGb * host.ratios.disk),
  };
}

export function free(host: HostUsage): Resources {
  const limit = schedulable(host);
  return {
    vcpus: limit.vcpus - host.used.vcpus,
    ramMb: limit.ramMb - host.used.ramMb,
    diskGb: limit.diskGb - host.used.diskGb,
  };
}

/** Null when `request` fits, otherwise why not, naming each short resource. */
export function shortfall(host: HostUsage, request: Resources): string | null {
  const room = free(host);
  const short = (['vcpus', 'ramMb', 'diskGb'] as const)
    .filter((r) => request[r] > room[r])
    .map((r) => `${r} needs ${request[r]}, ${Math.max(room[r], 0)} free`);
  return short.length === 0 ? null : short.join('; ');
}
