import type { HostWeigher } from '../types';

/**
 * Soft server-group policies: soft-affinity prefers hosts holding more members, soft-anti-affinity
 * prefers hosts holding fewer, down to none. Hard policies are filters, not weights.
 */
export const serverGroupWeigher: HostWeigher = {
  name: 'ServerGroup',
  weigh: (request, host) => {
    const group = request.group;
    if (!group) return 0;
    const here = group.members.get(host.id) ?? 0;
    if (group.policy === 'soft-anti-affinity') return 1 / (1 + here);
    if (group.policy === 'soft-affinity') {
      const most = Math.max(0, ...group.members.values());
      return most === 0 ? 0 : here / most;
    }
    return 0;
  },
};
