import { free, RESOURCE_NAMES } from '../../capacity';
import type { HostFilter } from '../types';

/**
 * The request must fit in what is left after allocation ratios, and a dedicated request in the
 * host's free dedicated CPUs (pcpus, never overcommitted), and its pids in what the host's kernel can give
 * (never overcommitted either). The claim re-checks this atomically.
 * It runs for every host of every decision, so the common case (it fits) is plain arithmetic.
 */
export const capacityFilter: HostFilter = {
  name: 'Capacity',
  reject: (request, host) => {
    const want = request.resources;
    const room = free(host);
    if (
      want.vcpus <= room.vcpus &&
      want.pcpus <= room.pcpus &&
      want.ramMb <= room.ramMb &&
      want.diskGb <= room.diskGb &&
      want.pids <= room.pids
    ) {
      return null;
    }
    const short = RESOURCE_NAMES.filter((r) => want[r] > room[r]);
    return {
      code: short.join('+'),
      reason: short.map((r) => `${r} needs ${want[r]}, ${Math.max(room[r], 0)} free`).join('; '),
    };
  },
};
