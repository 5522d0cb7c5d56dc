import type { HostFilter } from '../types';

/**
 * Hard server-group policies: anti-affinity keeps members on different hosts, affinity on one host.
 * The claim re-checks this under a lock on the group, so racing placements cannot break it.
 */
export const serverGroupFilter: HostFilter = {
  name: 'ServerGroup',
  appliesTo: (request) => request.group?.policy === 'affinity' || request.group?.policy === 'anti-affinity',
  reject: (request, host) => {
    const group = request.group;
    if (!group) return null;
    const here = group.members.get(host.id) ?? 0;
    if (group.policy === 'anti-affinity' && here > 0) {
      return {
        code: 'anti-affinity',
        reason: `a member of server group ${group.name} already runs here (anti-affinity)`,
      };
    }
    if (group.policy === 'affinity' && here === 0 && group.members.size > 0) {
      return { code: 'affinity', reason: `the members of server group ${group.name} run on another host (affinity)` };
    }
    return null;
  },
};
