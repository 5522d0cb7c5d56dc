import { free, schedulable } from '../capacity';
import type { HostWeigher } from './types';

/** Spread: prefer the host with the largest share of its RAM still free. */
export const freeRamWeigher: HostWeigher = {
  name: 'FreeRam',
  weigh: (_request, host) => {
    const limit = schedulable(host).ramMb;
    return limit > 0 ? free(host).ramMb / limit : 0;
  },
};
