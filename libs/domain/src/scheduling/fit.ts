import { free } from '../capacity';
import type { HostCandidate, Resources } from './types';

/** How many more instances of `size` fit on a host, after ratios and the per-host instance limit. */
export function instancesThatFit(host: HostCandidate, size: Resources, maxInstancesPerHost: number): number {
  const room = free(host);
  const by = (r: keyof Resources) =>
    size[r] === 0 ? Number.POSITIVE_INFINITY : Math.floor(Math.max(0, room[r]) / size[r]);
  return Math.max(
    0,
    Math.min(by('vcpus'), by('pcpus'), by('ramMb'), by('diskGb'), by('pids'), maxInstancesPerHost - host.instances),
  );
}
