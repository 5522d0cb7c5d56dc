import { addResources } from '../capacity';
import { aggregateExtraSpecsFilter } from './filters/aggregate-extra-specs';
import { availabilityZoneFilter } from './filters/availability-zone';
import { computeEnabledFilter } from './filters/compute-enabled';
import { driverKindFilter } from './filters/driver-kind';
import type { HostCandidate, HostFilter, Resources } from './types';

/** The host as it is after a claim of `size` (sign 1) or after giving one back (sign -1). */
export function withClaim(host: HostCandidate, size: Resources, sign: 1 | -1 = 1): HostCandidate {
  return {
    ...host,
    instances: host.instances + sign,
    used: addResources(host.used, size, sign),
  };
}

/**
 * For a request that draws on a reservation: only the hosts holding a slot, each shown with one
 * slot's room given back, since the slot already holds the capacity the instance will use.
 */
export function withReservationSlots(
  hosts: readonly HostCandidate[],
  slots: ReadonlyMap<string, number>,
  size: Resources,
): HostCandidate[] {
  return hosts.filter((h) => (slots.get(h.id) ?? 0) > 0).map((h) => withClaim(h, size, -1));
}

/** The filters that decide whether a host counts for capacity at all (not the room on it). */
export const CAPACITY_FILTERS: readonly HostFilter[] = [
  computeEnabledFilter,
  driverKindFilter,
  availabilityZoneFilter,
  aggregateExtraSpecsFilter,
];
