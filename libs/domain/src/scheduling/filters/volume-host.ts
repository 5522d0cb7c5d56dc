import type { HostFilter } from '../types';

/** An instance built with volumes lands only on the host they live on (local storage, as Nova's local disks). */
export const volumeHostFilter: HostFilter = {
  name: 'VolumeHost',
  appliesTo: (request) => Boolean(request.volumeHost),
  reject: (request, host) => {
    const want = request.volumeHost;
    if (!want || host.id === want.hostId) return null;
    const [first, ...more] = want.volumes;
    const named = more.length === 0 ? `volume ${first}` : `volumes ${want.volumes.join(', ')}`;
    return { code: 'volume-elsewhere', reason: `${named} live${more.length === 0 ? 's' : ''} on another host` };
  },
};
