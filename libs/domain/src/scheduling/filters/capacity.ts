import { free } from '../../capacity';
import type { HostFilter } from '../types';

/** The request must fit in what is left after allocation ratios. The claim re-checks this atomically. */
export const capacityFilter: HostFilter = {
  name: 'Capacity',
  reject: (request, host) => {
    const room = free(host);
    const short = (['vcpus', 'ramMb', 'diskGb'] as const).filter((r) => request.resources[r] > room[r]);
    if (short.length === 0) return null;
    return {
      code: short.join('+'),
      reason: short.map((r) => `${r} needs ${request.resources[r]}, ${Math.max(room[r], 0)} free`).join('; '),
    };
  },
};
