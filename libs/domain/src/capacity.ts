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
