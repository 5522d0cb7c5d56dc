import type { HostCandidate, PlacementRequest } from './types';

/** A roomy, healthy container host; override what a test is about. */
export function candidate(name: string, over: Partial<HostCandidate> = {}): HostCandidate {
  return {
    id: `id-${name}`,
    name,
    enabled: true,
    up: true,
    drivers: ['container'],
    zone: 'default',
    vlans: [[1, 4094]],
    cachedImages: new Set(),
    aggregates: new Map(),
    instances: 0,
    total: { vcpus: 4, pcpus: 0, ramMb: 4096, diskGb: 100, pids: 100_000 },
    ratios: { cpu: 4, ram: 1, disk: 1 },
    used: { vcpus: 0, pcpus: 0, ramMb: 0, diskGb: 0, pids: 0 },
    ...over,
  };
}

export function request(over: Partial<PlacementRequest> = {}): PlacementRequest {
  return {
    kind: 'container',
    resources: { vcpus: 2, pcpus: 0, ramMb: 1024, diskGb: 10, pids: 1024 },
    zone: null,
    extraSpecs: {},
    vlan: 100,
    imageRef: 'busybox',
    group: null,
    ...over,
  };
}
