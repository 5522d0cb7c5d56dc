import type { HostFilter } from '../types';

/** A container needs a host that runs Docker, a VM one that runs libvirt. */
export const driverKindFilter: HostFilter = {
  name: 'DriverKind',
  reject: (request, host) =>
    host.drivers.includes(request.kind)
      ? null
      : {
          code: request.kind,
          reason: `host has no ${request.kind} driver (offers ${host.drivers.join(', ') || 'none'})`,
        },
};
