import type { HostFilter } from '../types';

export const AGGREGATE_SPEC_PREFIX = 'aggregate:';

/**
 * A flavor extra spec `aggregate:<key>=<value>` needs a host in an aggregate whose metadata has
 * <key>=<value> (Nova's AggregateInstanceExtraSpecsFilter). Other extra specs are not this filter's.
 */
export const aggregateExtraSpecsFilter: HostFilter = {
  name: 'AggregateExtraSpecs',
  appliesTo: (request) => Object.keys(request.extraSpecs).some((k) => k.startsWith(AGGREGATE_SPEC_PREFIX)),
  reject: (request, host) => {
    for (const [spec, value] of Object.entries(request.extraSpecs)) {
      if (!spec.startsWith(AGGREGATE_SPEC_PREFIX)) continue;
      const key = spec.slice(AGGREGATE_SPEC_PREFIX.length);
      if (!host.aggregates.get(key)?.has(value)) {
        return { code: key, reason: `no aggregate of the host has ${key}=${value}` };
      }
    }
    return null;
  },
};
