import { parseVlanRanges, type GroupPolicy, type GroupState, type HostCandidate, type Resources } from '@berth/domain';
import type { InstanceKind } from '@berth/contracts';
import type { EntityManager } from 'typeorm';
import { one, rows } from '../sql';

interface HostRow {
  id: string;
  name: string;
  enabled: boolean;
  up: boolean;
  drivers: InstanceKind[];
  zone: string;
  vlanRanges: string;
  cachedImages: string[];
  instances: number;
  vcpus: number;
  pcpus: number;
  ramMb: number;
  diskGb: number;
  /** What the host's kernel gives instances; null until its agent tells it. */
  pids: number | null;
  cpuRatio: number;
  ramRatio: number;
  diskRatio: number;
  usedVcpus: number;
  usedPcpus: number;
  usedRamMb: number;
  usedDiskGb: number;
  usedPids: number;
  aggregates: Array<Record<string, string>>;
  volumeBackends: string[];
}

const HOST_STATE_SQL = `
  SELECT h.id, h.name, h.enabled, coalesce(h.last_heartbeat_at > now() - make_interval(secs => $1), false) AS up,
         ARRAY(SELECT unnest(h.drivers) EXCEPT SELECT unnest(h.unavailable_drivers)) AS drivers, h.zone, h.vlan_ranges AS "vlanRanges", h.cached_images AS "cachedImages", h.used_instances AS instances,
         h.vcpus, h.pcpus, h.ram_mb AS "ramMb", h.disk_gb AS "diskGb", h.cpu_ratio AS "cpuRatio", h.ram_ratio AS "ramRatio",
         h.disk_ratio AS "diskRatio", h.used_vcpus AS "usedVcpus",
         h.used_pcpus AS "usedPcpus", h.used_ram_mb AS "usedRamMb", h.used_disk_gb AS "usedDiskGb",
         h.pids, h.used_pids AS "usedPids", coalesce(ag.metadata, '[]') AS aggregates,
         h.volume_backends AS "volumeBackends"
    FROM hosts h
    LEFT JOIN (SELECT ah.host_id, json_agg(a.metadata) AS metadata
                 FROM aggregate_hosts ah JOIN aggregates a ON a.id = ah.aggregate_id GROUP BY ah.host_id) ag
      ON ag.host_id = h.id`;

function toCandidate(h: HostRow): HostCandidate {
  const aggregates = new Map<string, Set<string>>();
  for (const metadata of h.aggregates) {
    for (const [key, value] of Object.entries(metadata)) {
      const values = aggregates.get(key) ?? new Set<string>();
      values.add(String(value));
      aggregates.set(key, values);
    }
  }
  return {
    id: h.id,
    name: h.name,
    enabled: h.enabled,
    up: h.up,
    drivers: h.drivers,
    zone: h.zone,
    vlans: parseVlanRanges(h.vlanRanges) ?? [],
    cachedImages: new Set(h.cachedImages),
    aggregates,
    instances: h.instances,
    volumeBackends: new Set(h.volumeBackends),
    // A host that has not told its pids (an older agent) is not held to any.
    total: {
      vcpus: h.vcpus,
      pcpus: h.pcpus,
      ramMb: h.ramMb,
      diskGb: h.diskGb,
      pids: h.pids ?? Number.POSITIVE_INFINITY,
    },
    ratios: { cpu: h.cpuRatio, ram: h.ramRatio, disk: h.diskRatio },
    used: { vcpus: h.usedVcpus, pcpus: h.usedPcpus, ramMb: h.usedRamMb, diskGb: h.usedDiskGb, pids: h.usedPids },
  };
}

/** Every host as the scheduler sees it, in one query. */
export async function loadHostStates(m: EntityManager, downAfterSec: number): Promise<HostCandidate[]> {
  return (await rows<HostRow>(m, `${HOST_STATE_SQL} ORDER BY h.name`, [downAfterSec])).map(toCandidate);
}

export async function loadHostState(m: EntityManager, downAfterSec: number, id: string): Promise<HostCandidate | null> {
  const row = await one<HostRow>(m, `${HOST_STATE_SQL} WHERE h.id = $2`, [downAfterSec, id]);
  return row ? toCandidate(row) : null;
}

/**
 * A server group and where its members run. With `lock`, the group row is locked until the
 * transaction ends, so placements of the same group are decided one after another.
 */
export async function loadGroupState(m: EntityManager, groupId: string, lock: boolean): Promise<GroupState | null> {
  const group = await one<{ name: string; policy: GroupPolicy }>(
    m,
    `SELECT name, policy FROM server_groups WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [groupId],
  );
  if (!group) return null;
  const placed = await rows<{ hostId: string; n: number }>(
    m,
    `SELECT host_id AS "hostId", count(*)::int AS n FROM instances
      WHERE server_group_id = $1 AND deleted_at IS NULL AND host_id IS NOT NULL GROUP BY host_id`,
    [groupId],
  );
  return { ...group, members: new Map(placed.map((p) => [p.hostId, p.n])) };
}

/** How many unused slots a reservation holds on each host. */
export async function reservationSlots(m: EntityManager, reservationId: string): Promise<Map<string, number>> {
  const slots = await rows<{ hostId: string; n: number }>(
    m,
    `SELECT host_id AS "hostId", count(*)::int AS n FROM allocations WHERE reservation_id = $1 GROUP BY host_id`,
    [reservationId],
  );
  return new Map(slots.map((s) => [s.hostId, s.n]));
}

/**
 * Whether any enabled host of the kind could hold `need` even empty (after its ratios), with how many there are and
 * the most any of them offers of each resource. A host whose agent has not told its pids holds any number.
 */
export async function largestHost(
  m: EntityManager,
  kind: string,
  need: Resources,
): Promise<{ hosts: number; fitting: number; most: Resources }> {
  const [row] = await rows<Resources & { n: number; fits: number }>(
    m,
    `SELECT count(*)::int AS n,
            count(*) FILTER (WHERE floor(vcpus * cpu_ratio) >= $2 AND pcpus >= $3 AND floor(ram_mb * ram_ratio) >= $4
                               AND floor(disk_gb * disk_ratio) >= $5 AND coalesce(pids, $6) >= $6)::int AS fits,
            coalesce(max(floor(vcpus * cpu_ratio)), 0)::int AS vcpus, coalesce(max(pcpus), 0)::int AS pcpus,
            coalesce(max(floor(ram_mb * ram_ratio)), 0)::int AS "ramMb",
            coalesce(max(floor(disk_gb * disk_ratio)), 0)::int AS "diskGb",
            coalesce(max(coalesce(pids, $6)), 0)::int AS pids
       FROM hosts WHERE enabled AND $1 = ANY (drivers)`,
    [kind, need.vcpus, need.pcpus, need.ramMb, need.diskGb, need.pids],
  );
  const { n, fits, ...most } = row ?? { n: 0, fits: 0, vcpus: 0, pcpus: 0, ramMb: 0, diskGb: 0, pids: 0 };
  return { hosts: n, fitting: fits, most };
}

/** Each host's name and zone, and whether it is ready for an image of the kind now (enabled, up, has the driver). */
export function hostsReadyFor(
  m: EntityManager,
  kind: string,
  downAfterSec: number,
): Promise<Array<{ name: string; zone: string; ready: boolean }>> {
  return rows(
    m,
    `SELECT name, zone, enabled AND last_heartbeat_at > now() - make_interval(secs => $1) AND $2 = ANY (drivers) AS ready
       FROM hosts ORDER BY name`,
    [downAfterSec, kind],
  );
}
