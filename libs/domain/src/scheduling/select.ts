import { aggregateExtraSpecsFilter } from './filters/aggregate-extra-specs';
import { availabilityZoneFilter } from './filters/availability-zone';
import { volumeHostFilter } from './filters/volume-host';
import { instanceVolumeBackendFilter } from './filters/volume-backend';
import { capacityFilter } from './filters/capacity';
import { computeEnabledFilter } from './filters/compute-enabled';
import { driverKindFilter } from './filters/driver-kind';
import { networkReachableFilter } from './filters/network-reachable';
import { numInstancesFilter } from './filters/num-instances';
import { serverGroupFilter } from './filters/server-group';
import type { HostCandidate, HostFilter, PlacementRequest, Rejection, WeigherSetting } from './types';
import { imageCachedWeigher } from './weighers/image-cached';
import { ramWeigher, vcpuWeigher } from './weighers/resources';
import { serverGroupWeigher } from './weighers/server-group';

export interface SchedulerPolicy {
  filters: readonly HostFilter[];
  weighers: readonly WeigherSetting[];
  /** Pick at random among this many best hosts, so a burst does not pile onto one (Nova's host_subset_size). */
  subsetSize: number;
  /** Hosts kept to rebuild on if the chosen one fails the build. */
  alternates: number;
}

export interface PolicyOptions {
  maxInstancesPerHost: number;
  ramMultiplier: number;
  vcpuMultiplier: number;
  imageMultiplier: number;
  groupMultiplier: number;
  subsetSize: number;
  alternates: number;
}

export const DEFAULT_POLICY_OPTIONS: PolicyOptions = {
  maxInstancesPerHost: 50,
  ramMultiplier: 1,
  vcpuMultiplier: 1,
  imageMultiplier: 2,
  groupMultiplier: 10,
  subsetSize: 3,
  alternates: 2,
};

export function schedulerPolicy(options: PolicyOptions = DEFAULT_POLICY_OPTIONS): SchedulerPolicy {
  return {
    filters: [
      computeEnabledFilter,
      driverKindFilter,
      volumeHostFilter,
      instanceVolumeBackendFilter,
      availabilityZoneFilter,
      networkReachableFilter,
      aggregateExtraSpecsFilter,
      serverGroupFilter,
      numInstancesFilter(options.maxInstancesPerHost),
      capacityFilter,
    ],
    weighers: [
      { weigher: ramWeigher, multiplier: options.ramMultiplier },
      { weigher: vcpuWeigher, multiplier: options.vcpuMultiplier },
      { weigher: imageCachedWeigher, multiplier: options.imageMultiplier },
      { weigher: serverGroupWeigher, multiplier: options.groupMultiplier },
    ],
    subsetSize: options.subsetSize,
    alternates: options.alternates,
  };
}

export interface Selection {
  /** The host to claim on first, or null when none passed. */
  chosen: HostCandidate | null;
  /** The next best hosts, best first, to claim on if the chosen one is full or fails the build. */
  alternates: HostCandidate[];
  /** Every host that did not pass, with the first filter that turned it down. */
  rejected: Rejection[];
  /** How many hosts passed every filter. */
  passed: number;
}

/**
 * Filters and weighs every host, then picks at random among the best `subsetSize`. Only the best
 * subsetSize + alternates are kept in order, so a decision over 10,000 hosts costs one linear pass.
 */
export function selectHosts(
  request: PlacementRequest,
  hosts: readonly HostCandidate[],
  policy: SchedulerPolicy,
  random: () => number = Math.random,
): Selection {
  const rejected: Rejection[] = [];
  const passing: HostCandidate[] = [];
  const filters = policy.filters.filter((f) => f.appliesTo?.(request) ?? true);
  for (const host of hosts) {
    const rejection = firstRejection(request, host, filters);
    if (rejection) rejected.push(rejection);
    else passing.push(host);
  }
  const passed = passing.length;
  const scores = weigh(request, passing, policy.weighers);
  const keep = Math.max(1, policy.subsetSize) + policy.alternates;
  const best: Array<{ host: HostCandidate; score: number }> = [];
  for (let i = 0; i < passing.length; i += 1) insertBest(best, passing[i] as HostCandidate, scores[i] ?? 0, keep);
  if (best.length === 0) return { chosen: null, alternates: [], rejected, passed };
  const subset = Math.min(Math.max(1, policy.subsetSize), best.length);
  const pick = Math.min(subset - 1, Math.floor(random() * subset));
  const [chosen] = best.splice(pick, 1);
  return {
    chosen: chosen?.host ?? null,
    alternates: best.slice(0, policy.alternates).map((b) => b.host),
    rejected,
    passed,
  };
}

/** Each weigher's raw scores normalised across the hosts (min 0, max 1), times its multiplier, summed. */
function weigh(
  request: PlacementRequest,
  hosts: readonly HostCandidate[],
  weighers: readonly WeigherSetting[],
): Float64Array {
  const n = hosts.length;
  const total = new Float64Array(n);
  const raw = new Float64Array(n);
  for (const { weigher, multiplier } of weighers) {
    if (multiplier === 0 || weigher.appliesTo?.(request) === false) continue;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i += 1) {
      const v = weigher.weigh(request, hosts[i] as HostCandidate);
      raw[i] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (max <= min) continue;
    const scale = multiplier / (max - min);
    for (let i = 0; i < n; i += 1) total[i] = (total[i] as number) + ((raw[i] as number) - min) * scale;
  }
  return total;
}

function firstRejection(
  request: PlacementRequest,
  host: HostCandidate,
  filters: readonly HostFilter[],
): Rejection | null {
  for (const filter of filters) {
    const found = filter.reject(request, host);
    if (found) return { host: host.name, filter: filter.name, ...found };
  }
  return null;
}

/** Keeps `list` sorted best first (ties by name) and at most `keep` long; allocates only for a host that makes it. */
function insertBest(
  list: Array<{ host: HostCandidate; score: number }>,
  host: HostCandidate,
  score: number,
  keep: number,
): void {
  const better = (a: HostCandidate, sa: number, b: { host: HostCandidate; score: number }) =>
    sa > b.score || (sa === b.score && a.name < b.host.name);
  const worst = list[list.length - 1];
  if (list.length === keep && worst && !better(host, score, worst)) return;
  let i = list.length;
  while (i > 0 && better(host, score, list[i - 1] as { host: HostCandidate; score: number })) i -= 1;
  list.splice(i, 0, { host, score });
  if (list.length > keep) list.pop();
}
