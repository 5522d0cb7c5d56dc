import type { HostFacts } from '@berth/contracts';
import { parseCpuList } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import { one } from '../sql';

export function hostIdByName(m: EntityManager, name: string): Promise<{ id: string } | null> {
  return one<{ id: string }>(m, 'SELECT id FROM hosts WHERE name = $1', [name]);
}

/** The host's name, the row locked until the transaction ends. */
export function lockHost(m: EntityManager, id: string): Promise<{ name: string } | null> {
  return one<{ name: string }>(m, 'SELECT name FROM hosts WHERE id = $1 FOR UPDATE', [id]);
}

/** The host's name, and whether it sent a heartbeat within `downAfterSec`. */
export function hostLiveness(
  m: EntityManager,
  id: string,
  downAfterSec: number,
): Promise<{ name: string; up: boolean } | null> {
  return one<{ name: string; up: boolean }>(
    m,
    `SELECT name, last_heartbeat_at > now() - make_interval(secs => $2) AS up FROM hosts WHERE id = $1`,
    [id, downAfterSec],
  );
}

/** Takes the host out of scheduling, saying why (draining, evacuated, ...). */
export async function disableHost(m: EntityManager, id: string, reason: string): Promise<void> {
  await m.query(`UPDATE hosts SET enabled = false, disabled_reason = $2 WHERE id = $1`, [id, reason]);
}

/** How a peer host reaches this one over SSH: its address, the pinned key and the user it was enrolled with. */
export interface HostSsh {
  address: string;
  fingerprint: string | null;
  username: string | null;
}

export function hostSsh(m: EntityManager, id: string, port: number): Promise<HostSsh | null> {
  return one<HostSsh>(
    m,
    `SELECT h.address, k.fingerprint,
            (SELECT e.username FROM host_enrollments e WHERE e.name = h.name AND e.status = 'enrolled'
              ORDER BY e.created_at DESC LIMIT 1) AS username
       FROM hosts h LEFT JOIN known_host_keys k ON k.address = h.address AND k.port = $2
      WHERE h.id = $1`,
    [id, port],
  );
}

export interface AllocationRatios {
  cpu: number;
  ram: number;
  disk: number;
}

/**
 * A host's heartbeat: its row is made on the first (with the ratios given to a new host; operators change them per
 * host later) and its facts and last heartbeat refreshed on every one.
 */
export async function upsertHost(m: EntityManager, host: HostFacts, ratios: AllocationRatios): Promise<void> {
  await m.query(
    `INSERT INTO hosts (name, address, drivers, vcpus, ram_mb, disk_gb, cpu_ratio, ram_ratio, disk_ratio,
                        agent_version, vlan_ranges, cached_images, pcpus, cpu_shared_set, cpu_dedicated_set, lxcfs,
                        unavailable_drivers, confinement, pid_max, pids, capabilities, volume_backends, last_heartbeat_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, now())
     ON CONFLICT (name) DO UPDATE SET address = EXCLUDED.address, drivers = EXCLUDED.drivers,
       vcpus = EXCLUDED.vcpus, ram_mb = EXCLUDED.ram_mb, disk_gb = EXCLUDED.disk_gb,
       agent_version = EXCLUDED.agent_version, vlan_ranges = EXCLUDED.vlan_ranges,
       cached_images = EXCLUDED.cached_images, pcpus = EXCLUDED.pcpus, cpu_shared_set = EXCLUDED.cpu_shared_set,
       cpu_dedicated_set = EXCLUDED.cpu_dedicated_set, lxcfs = EXCLUDED.lxcfs,
       unavailable_drivers = EXCLUDED.unavailable_drivers, confinement = EXCLUDED.confinement,
       pid_max = EXCLUDED.pid_max, pids = EXCLUDED.pids, capabilities = EXCLUDED.capabilities,
       volume_backends = EXCLUDED.volume_backends, last_heartbeat_at = now()`,
    [
      host.name,
      host.address,
      host.drivers,
      host.vcpus,
      host.ramMb,
      host.diskGb,
      ratios.cpu,
      ratios.ram,
      ratios.disk,
      host.agentVersion,
      host.vlanRanges,
      host.cachedImages,
      host.pcpus,
      host.cpuSharedSet,
      parseCpuList(host.cpuDedicatedSet) ?? [],
      host.lxcfs,
      host.unavailable ?? [],
      host.confinement ?? [],
      host.pidMax ?? null,
      host.pids ?? null,
      host.capabilities ? JSON.stringify(host.capabilities) : null,
      host.volumeBackends ?? [],
    ],
  );
}

/** The host now caches the image (a pre-warm pulled it). */
export async function addCachedImage(m: EntityManager, hostName: string, imageRef: string): Promise<void> {
  await m.query(
    `UPDATE hosts SET cached_images = array_append(cached_images, $2) WHERE name = $1 AND NOT ($2 = ANY (cached_images))`,
    [hostName, imageRef],
  );
}

/** Records the agent's incarnation; returns the host's id only when it changed (the agent restarted). */
export async function newIncarnation(m: EntityManager, hostName: string, incarnation: string): Promise<string | null> {
  const host = await one<{ id: string }>(
    m,
    `UPDATE hosts SET agent_incarnation = $2 WHERE name = $1 AND agent_incarnation IS DISTINCT FROM $2 RETURNING id`,
    [hostName, incarnation],
  );
  return host?.id ?? null;
}

/** The host's id, the row locked until the transaction ends. */
export async function lockHostByName(m: EntityManager, name: string): Promise<string | null> {
  const host = await one<{ id: string }>(m, 'SELECT id FROM hosts WHERE name = $1 FOR UPDATE', [name]);
  return host?.id ?? null;
}
