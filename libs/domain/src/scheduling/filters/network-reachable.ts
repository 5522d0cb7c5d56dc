import { formatVlanRanges, reaches } from '../vlan-ranges';
import type { HostFilter } from '../types';

/** The host's integration bridge must carry the instance's VLAN. */
export const networkReachableFilter: HostFilter = {
  name: 'NetworkReachable',
  appliesTo: (request) => request.vlan !== null,
  reject: (request, host) =>
    request.vlan === null || reaches(host.vlans, request.vlan)
      ? null
      : { code: 'vlan', reason: `host does not reach VLAN ${request.vlan} (reaches ${formatVlanRanges(host.vlans)})` },
};
