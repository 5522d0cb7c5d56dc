import { capacityFilter } from './filters/capacity';
import { computeEnabledFilter } from './filters/compute-enabled';
import { driverKindFilter } from './filters/driver-kind';
import type { HostCandidate, HostFilter, HostWeigher, PlacementRequest, Rejection } from './types';
import { freeRamWeigher } from './weighers';

export const DEFAULT_FILTERS: readonly HostFilter[] = [computeEnabledFilter, driverKindFilter, capacityFilter];
export const DEFAULT_WEIGHERS: ReadonlyArray<{ weigher: HostWeigher; multiplier: number }> = [
  { weigher: freeRamWeigher, multiplier: 1 },
];

export interface Ranking {
  /** Hosts that passed every filter, best first. */
  ranked: HostCandidate[];
  /** For every other host, the first filter that rejected it and why. */
  rejected: Rejection[];
}

export function rankHosts(
  request: PlacementRequest,
  hosts: readonly HostCandidate[],
  filters: readonly HostFilter[] = DEFAULT_FILTERS,
  weighers: ReadonlyArray<{ weigher: HostWeigher; multiplier: number }> = DEFAULT_WEIGHERS,
): Ranking {
  const passed: Array<{ host: HostCandidate; score: number }> = [];
  const rejected: Rejection[] = [];
  for (const host of hosts) {
    const failure = firstRejection(request, host, filters);
    if (failure) {
      rejected.push(failure);
      continue;
    }
    const score = weighers.reduce((sum, { weigher, multiplier }) => sum + multiplier * weigher.weigh(request, host), 0);
    passed.push({ host, score });
  }
  passed.sort((a, b) => b.score - a.score || a.host.name.localeCompare(b.host.name));
  return { ranked: passed.map((p) => p.host), rejected };
}

function firstRejection(
  request: PlacementRequest,
  host: HostCandidate,
  filters: readonly HostFilter[],
): Rejection | null {
  for (const filter of filters) {
    const reason = filter.reject(request, host);
    if (reason !== null) return { host: host.name, filter: filter.name, reason };
  }
  return null;
}

/** The fault message for "no valid host", listing why each host was turned down. */
export function explainNoValidHost(rejected: readonly Rejection[]): string {
  if (rejected.length === 0) return 'No valid host: no compute host is registered';
  return `No valid host: ${rejected.map((r) => `${r.host}: ${r.filter}: ${r.reason}`).join('; ')}`;
}
