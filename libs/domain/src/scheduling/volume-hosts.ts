import type { Rejection } from './types';

/** A host as a volume's placement sees it: its state, the backends it offers, and its disk left after its ratio. */
export interface VolumeHost {
  id: string;
  name: string;
  zone: string;
  enabled: boolean;
  up: boolean;
  backends: readonly string[];
  freeDiskGb: number;
}

/** What a new volume asks of its host. */
export interface VolumeWant {
  backend: string;
  sizeGb: number;
  zone: string | null;
}

/** Why a host cannot hold the volume, in the scheduler's words (a filter, a stable code, a reason); null: it can. */
export function volumeHostRejection(host: VolumeHost, want: VolumeWant): Rejection | null {
  const no = (filter: string, code: string, reason: string): Rejection => ({ host: host.name, filter, code, reason });
  if (!host.enabled) return no('ComputeEnabled', 'disabled', 'host is disabled');
  if (!host.up) return no('ComputeEnabled', 'down', 'host is down (no recent heartbeat)');
  if (!host.backends.includes(want.backend)) {
    return no('VolumeBackend', 'backend', `host offers no ${want.backend} volumes`);
  }
  if (want.zone !== null && host.zone !== want.zone) {
    return no('AvailabilityZone', 'zone', `host is in zone ${host.zone}, not ${want.zone}`);
  }
  if (host.freeDiskGb < want.sizeGb) {
    return no('DiskCapacity', 'diskGb', `diskGb needs ${want.sizeGb}, ${Math.max(0, host.freeDiskGb)} free`);
  }
  return null;
}

/**
 * The hosts that can hold the volume, the one with the most disk left first (volumes spread over hosts, as
 * Cinder's capacity weigher spreads them), and why each other host was turned down.
 */
export function volumeHostChoice(
  hosts: readonly VolumeHost[],
  want: VolumeWant,
): { candidates: VolumeHost[]; rejected: Rejection[] } {
  const candidates: VolumeHost[] = [];
  const rejected: Rejection[] = [];
  for (const host of hosts) {
    const no = volumeHostRejection(host, want);
    if (no) rejected.push(no);
    else candidates.push(host);
  }
  candidates.sort((a, b) => b.freeDiskGb - a.freeDiskGb || a.name.localeCompare(b.name));
  return { candidates, rejected };
}
