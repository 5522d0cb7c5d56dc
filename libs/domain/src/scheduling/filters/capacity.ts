import { shortfall } from '../../capacity';
import type { HostFilter } from '../types';

/** The request must fit in what is left after allocation ratios. The claim re-checks this atomically. */
export const capacityFilter: HostFilter = {
  name: 'Capacity',
  reject: (request, host) => shortfall(host, request.resources),
};
