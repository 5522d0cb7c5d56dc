import type { DriverCapability, InstanceKind } from '@berth/contracts';
import type { EntityManager } from 'typeorm';
import { rows } from '../sql';

type Sized = { vcpus: number; pcpus: number; ramMb: number; diskGb: number; pids: number | null };

/** A host as operators see it: its facts, its state, and what is allocated on it. */
export interface HostRow {
  id: string;
  name: string;
  address: string;
  /** down when no heartbeat came for the caller's down-after. */
  state: 'up' | 'down';
  enabled: boolean;
  disabledReason: string | null;
  zone: string;
  vlanRanges: string;
  drivers: string[];
  unavailableDrivers: string[];
  cachedImages: string[];
  aggregates: string[];
  capacity: Sized;
  allocationRatios: { cpu: number; ram: number; disk: number };
  usage: Sized & { instances: number; pinnedCpus: number[] };
  cpuSets: { shared: string; dedicated: number[] };
  lxcfs: boolean;
  confinement: string[];
  pidMax: number | null;
  capabilities: Partial<Record<InstanceKind, DriverCapability[]>> | null;
  /** The volume backends it offers, and what its pools hold that no volume record names (at its agent's start). */
  volumeBackends: string[];
  strayVolumes: string[];
  lastHeartbeatAt: Date | null;
  agentVersion: string;
}

const HOST_ROW_SQL = `
  SELECT h.id, h.name, h.address,
         CASE WHEN h.last_heartbeat_at > now() - make_interval(secs => $1) THEN 'up' ELSE 'down' END AS state,
         h.enabled, h.disabled_reason AS "disabledReason", h.zone, h.vlan_ranges AS "vlanRanges", h.drivers,
         h.unavailable_drivers AS "unavailableDrivers", h.cached_images AS "cachedImages",
         coalesce((SELECT array_agg(a.name ORDER BY a.name) FROM aggregate_hosts ah JOIN aggregates a ON a.id = ah.aggregate_id
                    WHERE ah.host_id = h.id), '{}') AS aggregates,
         json_build_object('vcpus', h.vcpus, 'pcpus', h.pcpus, 'ramMb', h.ram_mb, 'diskGb', h.disk_gb,
                           'pids', h.pids) AS capacity,
         json_build_object('cpu', h.cpu_ratio, 'ram', h.ram_ratio, 'disk', h.disk_ratio) AS "allocationRatios",
         json_build_object('vcpus', h.used_vcpus, 'pcpus', h.used_pcpus, 'ramMb', h.used_ram_mb,
                           'diskGb', h.used_disk_gb, 'pids', h.used_pids, 'instances', h.used_instances,
                           'pinnedCpus', (SELECT coalesce(array_agg(c ORDER BY c), '{}') FROM unnest(h.pinned_cpus) c)) AS usage,
         json_build_object('shared', h.cpu_shared_set, 'dedicated', h.cpu_dedicated_set) AS "cpuSets", h.lxcfs,
         h.confinement, h.pid_max AS "pidMax", h.capabilities, h.volume_backends AS "volumeBackends",
         h.stray_volumes AS "strayVolumes", h.last_heartbeat_at AS "lastHeartbeatAt", h.agent_version AS "agentVersion"
    FROM hosts h`;

/** Every host, by name; `downAfterSec` of silence makes one down. */
export function hostRows(m: EntityManager, downAfterSec: number): Promise<HostRow[]> {
  return rows<HostRow>(m, `${HOST_ROW_SQL} ORDER BY h.name`, [downAfterSec]);
}

export async function hostRow(m: EntityManager, downAfterSec: number, id: string): Promise<HostRow | null> {
  const [host] = await rows<HostRow>(m, `${HOST_ROW_SQL} WHERE h.id = $2`, [downAfterSec, id]);
  return host ?? null;
}

/** What an operator may change on a host; the rest comes from its agent. */
export interface HostChange {
  enabled?: boolean;
  disabledReason?: string | null;
  zone?: string;
  cpuRatio?: number;
  ramRatio?: number;
  diskRatio?: number;
}

const HOST_CHANGE_COLUMNS: Record<keyof HostChange, string> = {
  enabled: 'enabled',
  disabledReason: 'disabled_reason',
  zone: 'zone',
  cpuRatio: 'cpu_ratio',
  ramRatio: 'ram_ratio',
  diskRatio: 'disk_ratio',
};

/** Applies the change (only the fields it has); false when the host does not exist. */
export async function updateHost(m: EntityManager, id: string, change: HostChange): Promise<boolean> {
  const set = (Object.keys(HOST_CHANGE_COLUMNS) as Array<keyof HostChange>).filter((k) => change[k] !== undefined);
  const assignments = set.map((k, i) => `${HOST_CHANGE_COLUMNS[k]} = $${i + 2}`).join(', ');
  const updated = await rows<{ id: string }>(m, `UPDATE hosts SET ${assignments} WHERE id = $1 RETURNING id`, [
    id,
    ...set.map((k) => change[k]),
  ]);
  return updated.length > 0;
}
