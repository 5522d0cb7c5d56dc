import { addResources, NO_RESOURCES, type Resources } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import { rows } from '../sql';

export interface HostLimits {
  maxInstancesPerHost: number;
  downAfterSec: number;
}

/**
 * Who holds an allocation: an instance, an unused slot of a reservation, a migration (the
 * source's claim while the instance is moved; Nova's migration-as-consumer), or a volume (its disk only; it is not
 * an instance of its host). `hostId` narrows an
 * instance's release to one host (the target of a migration that is undone).
 */
export type Consumer =
  { instanceId: string; hostId?: string } | { reservationId: string } | { migrationId: string } | { volumeId: string };

/**
 * The part of a claim's host UPDATE that takes dedicated CPUs: the lowest free CPUs of the host's
 * dedicated set, appended to those it has pinned. `n` is the SQL of the count. Under concurrent
 * claims PostgreSQL re-evaluates the UPDATE on the newest row version, so two claims never take
 * the same CPU, and the CHECK that pinned_cpus has used_pcpus members holds them to the count.
 */
export const pinCpusSql = (n: string) =>
  `pinned_cpus = pinned_cpus || ARRAY(SELECT c FROM unnest(cpu_dedicated_set) c WHERE c <> ALL (pinned_cpus) ORDER BY c LIMIT ${n})`;
/** The condition that `n` dedicated CPUs are free on the host. */
export const freeCpusSql = (n: string) =>
  `used_pcpus + ${n} <= pcpus AND (SELECT count(*) FROM unnest(cpu_dedicated_set) c WHERE c <> ALL (pinned_cpus)) >= ${n}`;
/**
 * The condition that `n` more pids fit on the host: never overcommitted. A host whose agent has not
 * reported its pids (NULL) is held to none.
 */
export const fitsPidsSql = (n: string) => `(pids IS NULL OR used_pids + ${n} <= pids)`;
/** In RETURNING: the CPUs this UPDATE pinned (the tail it appended). */
export const pinnedNowSql = (n: string) =>
  `pinned_cpus[cardinality(pinned_cpus) - ${n} + 1 : cardinality(pinned_cpus)] AS pinned`;

/**
 * Claims `request` on a host in one conditional UPDATE: it succeeds only if the host is enabled, up,
 * below its instance limit, and the request still fits after allocation ratios (dedicated CPUs are
 * never overcommitted), so two schedulers racing can never overbook. The allocation row and the
 * host's counters change in one transaction. Returns the CPUs pinned for it, or null if it did not fit.
 */
export async function claimOnHost(
  manager: EntityManager,
  consumer: Consumer,
  hostId: string,
  request: Resources,
  limits: HostLimits,
): Promise<number[] | null> {
  const claimed = await rows<{ pinned: number[] }>(
    manager,
    `UPDATE hosts SET used_vcpus = used_vcpus + $2, used_pcpus = used_pcpus + $3::int, used_ram_mb = used_ram_mb + $4,
                      used_disk_gb = used_disk_gb + $5, used_pids = used_pids + $8, used_instances = used_instances + 1,
                      ${pinCpusSql('$3::int')}
      WHERE id = $1 AND enabled AND last_heartbeat_at > now() - make_interval(secs => $7)
        AND used_instances < $6
        AND used_vcpus + $2 <= floor(vcpus * cpu_ratio) AND ${freeCpusSql('$3::int')}
        AND used_ram_mb + $4 <= floor(ram_mb * ram_ratio)
        AND used_disk_gb + $5 <= floor(disk_gb * disk_ratio) AND ${fitsPidsSql('$8')}
      RETURNING ${pinnedNowSql('$3::int')}`,
    [
      hostId,
      request.vcpus,
      request.pcpus,
      request.ramMb,
      request.diskGb,
      limits.maxInstancesPerHost,
      limits.downAfterSec,
      request.pids,
    ],
  );
  const [row] = claimed;
  if (!row) return null;
  await insertAllocation(manager, consumer, hostId, request, row.pinned);
  return row.pinned;
}

async function insertAllocation(
  manager: EntityManager,
  consumer: Consumer,
  hostId: string,
  r: Resources,
  pinned: number[],
): Promise<void> {
  await manager.query(
    `INSERT INTO allocations (instance_id, reservation_id, migration_id, host_id, vcpus, pcpus, ram_mb, disk_gb, pids,
                              pinned_cpus, volume_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      'instanceId' in consumer ? consumer.instanceId : null,
      'reservationId' in consumer ? consumer.reservationId : null,
      'migrationId' in consumer ? consumer.migrationId : null,
      hostId,
      r.vcpus,
      r.pcpus,
      r.ramMb,
      r.diskGb,
      r.pids,
      pinned,
      'volumeId' in consumer ? consumer.volumeId : null,
    ],
  );
}

/**
 * Turns one unused slot of a reservation on `hostId` into the instance's allocation. The capacity
 * (and any dedicated CPUs) was claimed when the reservation was made, so the host's counters do not
 * change. Returns the slot's pinned CPUs, or null when the reservation has no slot there.
 */
export async function drawReservationSlot(
  manager: EntityManager,
  reservationId: string,
  instanceId: string,
  hostId: string,
): Promise<number[] | null> {
  const drawn = await rows<{ pinned: number[] }>(
    manager,
    `UPDATE allocations SET reservation_id = NULL, instance_id = $2
      WHERE id = (SELECT id FROM allocations WHERE reservation_id = $1 AND host_id = $3 LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING pinned_cpus AS pinned`,
    [reservationId, instanceId, hostId],
  );
  return drawn[0]?.pinned ?? null;
}

/** Drops the allocations of a consumer and gives the capacity (and pinned CPUs) back to their hosts. */
export async function releaseAllocations(manager: EntityManager, consumer: Consumer): Promise<void> {
  const [column, id] =
    'instanceId' in consumer
      ? ['instance_id', consumer.instanceId]
      : 'reservationId' in consumer
        ? ['reservation_id', consumer.reservationId]
        : 'volumeId' in consumer
          ? ['volume_id', consumer.volumeId]
          : ['migration_id', consumer.migrationId];
  // A volume's allocation holds disk only: its host counts no instance for it.
  const perInstance = 'volumeId' in consumer ? 0 : 1;
  const onHost = 'instanceId' in consumer && consumer.hostId !== undefined ? consumer.hostId : null;
  const released = await rows<Resources & { hostId: string; pinned: number[] }>(
    manager,
    `DELETE FROM allocations WHERE ${column} = $1 AND ($2::uuid IS NULL OR host_id = $2)
     RETURNING host_id AS "hostId", vcpus, pcpus, ram_mb AS "ramMb", disk_gb AS "diskGb", pids, pinned_cpus AS pinned`,
    [id, onHost],
  );
  const byHost = new Map<string, { total: Resources; cpus: number[]; n: number }>();
  for (const a of released) {
    const sum = byHost.get(a.hostId) ?? { total: NO_RESOURCES, cpus: [], n: 0 };
    byHost.set(a.hostId, {
      total: addResources(sum.total, a),
      cpus: [...sum.cpus, ...a.pinned],
      n: sum.n + perInstance,
    });
  }
  for (const [hostId, { total, cpus, n }] of byHost) await giveBack(manager, hostId, total, cpus, n);
}

/** Returns capacity and pinned CPUs to a host's counters. */
async function giveBack(m: EntityManager, hostId: string, r: Resources, cpus: number[], instances = 0): Promise<void> {
  await m.query(
    `UPDATE hosts SET used_vcpus = used_vcpus - $2, used_pcpus = used_pcpus - $3, used_ram_mb = used_ram_mb - $4,
            used_disk_gb = used_disk_gb - $5, used_instances = used_instances - $6, used_pids = used_pids - $8,
            pinned_cpus = ARRAY(SELECT c FROM unnest(pinned_cpus) WITH ORDINALITY u(c, i) WHERE c <> ALL ($7::int[]) ORDER BY i)
      WHERE id = $1`,
    [hostId, r.vcpus, r.pcpus, r.ramMb, r.diskGb, instances, cpus, pidsOf(r)],
  );
}

/**
 * Grows an instance's allocation on its host for a live resize: the host must be up and the growth
 * must fit after ratios (an instance already placed may grow on a disabled host). Returns the CPUs
 * newly pinned for it, or null when the host lacks room (nothing changed).
 */
export async function growAllocation(
  m: EntityManager,
  instanceId: string,
  hostId: string,
  grow: Resources,
  downAfterSec: number,
): Promise<number[] | null> {
  const [row] = await rows<{ pinned: number[] }>(
    m,
    `UPDATE hosts SET used_vcpus = used_vcpus + $2, used_pcpus = used_pcpus + $3::int, used_ram_mb = used_ram_mb + $4,
                      used_disk_gb = used_disk_gb + $5, used_pids = used_pids + $7, ${pinCpusSql('$3::int')}
      WHERE id = $1 AND last_heartbeat_at > now() - make_interval(secs => $6)
        AND used_vcpus + $2 <= floor(vcpus * cpu_ratio) AND ${freeCpusSql('$3::int')}
        AND used_ram_mb + $4 <= floor(ram_mb * ram_ratio) AND used_disk_gb + $5 <= floor(disk_gb * disk_ratio)
        AND ${fitsPidsSql('$7')}
      RETURNING ${pinnedNowSql('$3::int')}`,
    [hostId, grow.vcpus, grow.pcpus, grow.ramMb, grow.diskGb, downAfterSec, pidsOf(grow)],
  );
  if (!row) return null;
  await m.query(
    `UPDATE allocations SET vcpus = vcpus + $3, pcpus = pcpus + $4, ram_mb = ram_mb + $5, disk_gb = disk_gb + $6,
            pids = pids + $8, pinned_cpus = pinned_cpus || $7::int[]
      WHERE instance_id = $1 AND host_id = $2`,
    [instanceId, hostId, grow.vcpus, grow.pcpus, grow.ramMb, grow.diskGb, row.pinned, pidsOf(grow)],
  );
  return row.pinned;
}

/** Shrinks an instance's allocation by `shrink` and unpins `cpus` (after a resize, or to undo its growth). */
export async function shrinkAllocation(
  m: EntityManager,
  instanceId: string,
  hostId: string,
  shrink: Resources,
  cpus: number[],
): Promise<void> {
  await m.query(
    `UPDATE allocations SET vcpus = vcpus - $3, pcpus = pcpus - $4, ram_mb = ram_mb - $5, disk_gb = disk_gb - $6,
            pids = pids - $8, pinned_cpus = ARRAY(SELECT c FROM unnest(pinned_cpus) WITH ORDINALITY u(c, i) WHERE c <> ALL ($7::int[]) ORDER BY i)
      WHERE instance_id = $1 AND host_id = $2`,
    [instanceId, hostId, shrink.vcpus, shrink.pcpus, shrink.ramMb, shrink.diskGb, cpus, pidsOf(shrink)],
  );
  await giveBack(m, hostId, shrink, cpus);
}

/**
 * The pids of a growth or shrink: none for one recorded before pids were claimed (a resize pending across
 * the upgrade that added them keeps its pids as they were).
 */
function pidsOf(r: Partial<Pick<Resources, 'pids'>>): number {
  return r.pids ?? 0;
}

/** The source's claim passes from the instance to its migration, so that both hosts stay held during the move. */
export async function handClaimToMigration(
  m: EntityManager,
  instanceId: string,
  sourceHostId: string,
  migrationId: string,
): Promise<void> {
  await m.query(
    `UPDATE allocations SET instance_id = NULL, migration_id = $3 WHERE instance_id = $1 AND host_id = $2`,
    [instanceId, sourceHostId, migrationId],
  );
}

/** A move undone: the source's claim goes back from the migration to the instance; returns the CPUs it pins. */
export async function takeClaimBack(m: EntityManager, migrationId: string, instanceId: string): Promise<number[]> {
  const [back] = await rows<{ pinned: number[] }>(
    m,
    `UPDATE allocations SET instance_id = $2, migration_id = NULL WHERE migration_id = $1 RETURNING pinned_cpus AS pinned`,
    [migrationId, instanceId],
  );
  return back?.pinned ?? [];
}

/** The CPUs the migration's claim (the source's) pins, or null when it holds none. */
export async function migrationClaimPins(m: EntityManager, migrationId: string): Promise<number[] | null> {
  const [claim] = await rows<{ pinned: number[] }>(
    m,
    'SELECT pinned_cpus AS pinned FROM allocations WHERE migration_id = $1',
    [migrationId],
  );
  return claim?.pinned ?? null;
}

/**
 * Claims a volume's disk on a host in one conditional UPDATE: the host must be enabled, up, offer the volume's
 * backend, and have the room after its disk ratio. The allocation (disk only, no instance) is recorded with it.
 * False when the host cannot take it (nothing changed).
 */
export async function claimVolumeOnHost(
  m: EntityManager,
  volumeId: string,
  hostId: string,
  volume: { sizeGb: number; backend: string },
  downAfterSec: number,
): Promise<boolean> {
  const claimed = await rows(
    m,
    `UPDATE hosts SET used_disk_gb = used_disk_gb + $2
      WHERE id = $1 AND enabled AND last_heartbeat_at > now() - make_interval(secs => $4)
        AND $3 = ANY(volume_backends) AND used_disk_gb + $2 <= floor(disk_gb * disk_ratio)
      RETURNING id`,
    [hostId, volume.sizeGb, volume.backend, downAfterSec],
  );
  if (claimed.length === 0) return false;
  await insertAllocation(m, { volumeId }, hostId, { ...NO_RESOURCES, diskGb: volume.sizeGb }, []);
  return true;
}

/**
 * Grows (or, with a negative `gb`, shrinks back) a volume's allocation on its host. Growing needs the host up and
 * the room after its disk ratio; false when it lacks them (nothing changed). Shrinking always succeeds.
 */
export async function resizeVolumeAllocation(
  m: EntityManager,
  volumeId: string,
  hostId: string,
  gb: number,
  downAfterSec: number,
): Promise<boolean> {
  const changed = await rows(
    m,
    `UPDATE hosts SET used_disk_gb = used_disk_gb + $2
      WHERE id = $1 AND ($2 <= 0 OR (last_heartbeat_at > now() - make_interval(secs => $3)
                                     AND used_disk_gb + $2 <= floor(disk_gb * disk_ratio)))
      RETURNING id`,
    [hostId, gb, downAfterSec],
  );
  if (changed.length === 0) return false;
  await m.query('UPDATE allocations SET disk_gb = disk_gb + $2 WHERE volume_id = $1', [volumeId, gb]);
  return true;
}
