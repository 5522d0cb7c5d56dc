import type { HostFilter } from '../types';

/** An instance moving with its volumes lands only on a host that offers their backends (their size is in its disk). */
export const instanceVolumeBackendFilter: HostFilter = {
  name: 'VolumeBackend',
  appliesTo: (request) => (request.volumeBackends?.length ?? 0) > 0,
  reject: (request, host) => {
    const missing = (request.volumeBackends ?? []).filter((b) => !host.volumeBackends?.has(b));
    return missing.length === 0
      ? null
      : { code: 'volume-backend', reason: `host offers no ${missing.join(', ')} volumes for the instance's volumes` };
  },
};
