import { free, schedulable } from '../../capacity';
import type { HostWeigher } from '../types';

const share = (left: number, total: number) => (total > 0 ? Math.max(0, left) / total : 0);

/** The share of the host's RAM still free: a positive multiplier spreads, a negative one packs. */
export const ramWeigher: HostWeigher = {
  name: 'Ram',
  weigh: (_request, host) => share(free(host).ramMb, schedulable(host).ramMb),
};

/** The share of the host's vCPUs still free. */
export const vcpuWeigher: HostWeigher = {
  name: 'Vcpu',
  weigh: (_request, host) => share(free(host).vcpus, schedulable(host).vcpus),
};
