import type { HostWeigher } from '../types';

/** Free RAM after ratios: a positive multiplier spreads (most room first), a negative one packs. */
export const ramWeigher: HostWeigher = {
  name: 'Ram',
  weigh: (_request, host) => Math.floor(host.total.ramMb * host.ratios.ram) - host.used.ramMb,
};

/** Free vCPUs after ratios. */
export const vcpuWeigher: HostWeigher = {
  name: 'Vcpu',
  weigh: (_request, host) => Math.floor(host.total.vcpus * host.ratios.cpu) - host.used.vcpus,
};
