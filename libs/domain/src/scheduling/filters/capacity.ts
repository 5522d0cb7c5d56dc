import type { HostFilter } from '../types';

/**
 * The request must fit in what is left after allocation ratios, and a dedicated request in the
 * host's free dedicated CPUs (pcpus, never overcommitted). The claim re-checks this atomically.
 * It runs for every host of every decision, so the common case (it fits) is plain arithmetic.
 */
export const capacityFilter: HostFilter = {
  name: 'Capacity',
  reject: (request, host) => {
    const want = request.resources;
    const vcpus = Math.floor(host.total.vcpus * host.ratios.cpu) - host.used.vcpus;
    const pcpus = host.total.pcpus - host.used.pcpus;
    const ramMb = Math.floor(host.total.ramMb * host.ratios.ram) - host.used.ramMb;
    const diskGb = Math.floor(host.total.diskGb * host.ratios.disk) - host.used.diskGb;
    if (want.vcpus <= vcpus && want.pcpus <= pcpus && want.ramMb <= ramMb && want.diskGb <= diskGb) return null;
    const short = (
      [
        ['vcpus', vcpus],
        ['pcpus', pcpus],
        ['ramMb', ramMb],
        ['diskGb', diskGb],
      ] as const
    ).filter(([r, room]) => want[r] > room);
    return {
      code: short.map(([r]) => r).join('+'),
      reason: short.map(([r, room]) => `${r} needs ${want[r]}, ${Math.max(room, 0)} free`).join('; '),
    };
  },
};
