import type { HostWeigher } from '../types';

/**
 * Soft server-group policies: soft-affinity prefers hosts holding more members, soft-anti-affinity
 * hosts holding fewer. Hard policies are filters, not weights.
 */
export const serverGroupWeigher: HostWeigher = {
  name: 'ServerGroup',
  appliesTo: (request) => request.group?.policy === 'soft-affinity' || request.group?.policy === 'soft-anti-affinity',
  weigh: (request, host) => {
    const group = request.group;
    if (!group) return 0;
    const here = group.members.get(host.id) ?? 0;
    if (group.policy === 'soft-anti-affinity') return -here;
    if (group.policy === 'soft-affinity') return here;
    return 0;
  },
};
