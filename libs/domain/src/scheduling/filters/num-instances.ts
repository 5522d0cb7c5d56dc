import type { HostFilter } from '../types';

/** At most `max` instances per host, whatever their size (Nova's NumInstancesFilter). */
export function numInstancesFilter(max: number): HostFilter {
  return {
    name: 'NumInstances',
    reject: (_request, host) =>
      host.instances >= max
        ? { code: 'full', reason: `host holds ${host.instances} instances, the most one takes (${max})` }
        : null,
  };
}
