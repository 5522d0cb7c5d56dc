import type { HostFilter } from '../types';

/** A host takes new instances only if an operator has not disabled it and it heartbeats. */
export const computeEnabledFilter: HostFilter = {
  name: 'ComputeEnabled',
  reject: (_request, host) => {
    if (!host.enabled) return { code: 'disabled', reason: 'host is disabled' };
    if (!host.up) return { code: 'down', reason: 'host is down (no recent heartbeat)' };
    return null;
  },
};
