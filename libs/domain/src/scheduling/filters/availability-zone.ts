import type { HostFilter } from '../types';

/** An instance asked for in a zone lands only on that zone's hosts. */
export const availabilityZoneFilter: HostFilter = {
  name: 'AvailabilityZone',
  appliesTo: (request) => request.zone !== null,
  reject: (request, host) =>
    request.zone !== null && host.zone !== request.zone
      ? { code: 'zone', reason: `host is in zone ${host.zone}, not ${request.zone}` }
      : null,
};
