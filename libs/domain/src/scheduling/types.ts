import type { InstanceKind } from '@berth/contracts';
import type { HostUsage, Resources } from '../capacity';

/** A host as the scheduler sees it: capacity, usage and state, all read in one query. */
export interface HostCandidate extends HostUsage {
  id: string;
  name: string;
  enabled: boolean;
  up: boolean;
  drivers: readonly InstanceKind[];
}

export interface PlacementRequest {
  kind: InstanceKind;
  resources: Resources;
}

/** One rule a host must pass; a pure function of the request and the host. */
export interface HostFilter {
  name: string;
  /** Null when the host passes, otherwise the reason it does not. */
  reject(request: PlacementRequest, host: HostCandidate): string | null;
}

/** Scores a host that passed every filter; higher is better. Scores are normalised to 0..1. */
export interface HostWeigher {
  name: string;
  weigh(request: PlacementRequest, host: HostCandidate): number;
}

export interface Rejection {
  host: string;
  filter: string;
  reason: string;
}
