import type { InstanceKind } from '@berth/contracts';
import type { HostUsage, Resources } from '../capacity';
import type { VlanRanges } from './vlan-ranges';

export const GROUP_POLICIES = ['affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity'] as const;
export type GroupPolicy = (typeof GROUP_POLICIES)[number];

/** A host as the scheduler sees it: capacity, usage, state and what it offers, from one read. */
export interface HostCandidate extends HostUsage {
  id: string;
  name: string;
  enabled: boolean;
  up: boolean;
  drivers: readonly InstanceKind[];
  zone: string;
  vlans: VlanRanges;
  cachedImages: ReadonlySet<string>;
  /** Metadata of the host's aggregates: key -> every value the host's aggregates give it. */
  aggregates: ReadonlyMap<string, ReadonlySet<string>>;
  /** Instances (and reservation slots) allocated here. */
  instances: number;
  /** The volume backends it offers (absent: none known). */
  volumeBackends?: ReadonlySet<string>;
}

export interface GroupState {
  name: string;
  policy: GroupPolicy;
  /** Host id -> how many members of the group it holds now. */
  members: ReadonlyMap<string, number>;
}

/** What one instance asks of a host (Nova's RequestSpec). */
export interface PlacementRequest {
  kind: InstanceKind;
  resources: Resources;
  zone: string | null;
  /** Flavor extra specs; `aggregate:<key>` entries must match the host's aggregate metadata. */
  extraSpecs: Readonly<Record<string, string>>;
  /** The VLAN of the instance's network; null for capacity that is not tied to one (reservations). */
  vlan: number | null;
  /** The image to start; null when none is known yet (reservations). */
  imageRef: string | null;
  group: GroupState | null;
  /** The host whose volumes the instance is built with: it lands there or nowhere. */
  volumeHost?: { hostId: string; volumes: readonly string[] } | null;
  /** The volume backends a moving instance's volumes need on its target. */
  volumeBackends?: readonly string[];
}

export interface Rejection {
  host: string;
  filter: string;
  /** Stable within a filter, so that many hosts can be counted per reason. */
  code: string;
  reason: string;
}

/** One rule a host must pass: a pure function of the request and the host. */
export interface HostFilter {
  name: string;
  /** False when the filter cannot reject anything for this request (no zone asked, say): it is skipped. */
  appliesTo?(request: PlacementRequest): boolean;
  reject(request: PlacementRequest, host: HostCandidate): { code: string; reason: string } | null;
}

/**
 * Scores a host that passed every filter; higher is better. Raw scores are normalised across the
 * hosts being compared (min to 0, max to 1) before multipliers apply, as Nova's weighers are.
 */
export interface HostWeigher {
  name: string;
  /** False when every host would score the same for this request: the weigher is skipped. */
  appliesTo?(request: PlacementRequest): boolean;
  weigh(request: PlacementRequest, host: HostCandidate): number;
}

export interface WeigherSetting {
  weigher: HostWeigher;
  /** Positive prefers high scores; negative inverts (e.g. pack instead of spread); 0 turns it off. */
  multiplier: number;
}

export type { Resources };
