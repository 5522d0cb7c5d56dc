import type { CpuPolicy, InstanceKind } from '@berth/contracts';
import type { EntityManager } from 'typeorm';
import type { FlavorSpec } from '../entities/catalog.entity';
import { one, rows } from '../sql';

export interface ReservationRecord {
  id: string;
  projectId: string | null;
  flavorId: string | null;
  flavorName: string;
  kind: InstanceKind;
  cpuPolicy: CpuPolicy;
  vcpus: number;
  ramMb: number;
  diskGb: number;
  zone: string | null;
  count: number;
  startsAt: Date;
  endsAt: Date;
  status: 'active' | 'released';
  createdAt: Date;
  /** Slots not drawn yet, per host. */
  free: Array<{ host: string; slots: number }>;
}

const RESERVATION_SQL = `
  SELECT r.id, r.project_id AS "projectId", r.flavor_id AS "flavorId", r.flavor_name AS "flavorName", r.kind,
         r.cpu_policy AS "cpuPolicy", r.vcpus,
         r.ram_mb AS "ramMb", r.disk_gb AS "diskGb", r.zone, r.count, r.starts_at AS "startsAt", r.ends_at AS "endsAt",
         r.status, r.created_at AS "createdAt",
         coalesce((SELECT json_agg(json_build_object('host', s.host, 'slots', s.n) ORDER BY s.host)
                     FROM (SELECT h.name AS host, count(*)::int AS n FROM allocations a JOIN hosts h ON h.id = a.host_id
                            WHERE a.reservation_id = r.id GROUP BY h.name) s), '[]') AS free
    FROM reservations r`;

/** A reservation is visible to the project in `param` (null: to everyone) when it is for that project or for any. */
const visibleTo = (param: string) => `(${param}::uuid IS NULL OR r.project_id IS NULL OR r.project_id = ${param})`;

export interface NewReservationRow {
  projectId: string | null;
  flavor: FlavorSpec;
  kind: InstanceKind;
  count: number;
  zone: string | null;
  startsAt: Date;
  endsAt: Date;
}

export async function insertReservation(m: EntityManager, r: NewReservationRow): Promise<string> {
  const row = await one<{ id: string }>(
    m,
    `INSERT INTO reservations (project_id, flavor_id, flavor_name, kind, vcpus, ram_mb, disk_gb, zone, count, starts_at,
                               ends_at, cpu_policy, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'active') RETURNING id`,
    [
      r.projectId,
      r.flavor.id,
      r.flavor.name,
      r.kind,
      r.flavor.vcpus,
      r.flavor.ramMb,
      r.flavor.diskGb,
      r.zone,
      r.count,
      r.startsAt,
      r.endsAt,
      r.flavor.cpuPolicy,
    ],
  );
  if (!row) throw new Error('insert into reservations returned no row');
  return row.id;
}

/**
 * Null when it does not exist or `projectId` may not see it. A project sees the reservations for it and those for
 * any project; null sees every one.
 */
export function reservation(m: EntityManager, id: string, projectId: string | null): Promise<ReservationRecord | null> {
  return one<ReservationRecord>(m, `${RESERVATION_SQL} WHERE r.id = $1 AND ${visibleTo('$2')}`, [id, projectId]);
}

/** The reservations `projectId` may see (as `reservation`), newest first. */
export function reservations(m: EntityManager, projectId: string | null): Promise<ReservationRecord[]> {
  return rows<ReservationRecord>(m, `${RESERVATION_SQL} WHERE ${visibleTo('$1')} ORDER BY r.created_at DESC, r.id`, [
    projectId,
  ]);
}

/** An active reservation's project, its row locked; null when it is not active (or does not exist). */
export function lockActiveReservation(m: EntityManager, id: string): Promise<{ projectId: string | null } | null> {
  return one<{ projectId: string | null }>(
    m,
    `SELECT project_id AS "projectId" FROM reservations WHERE id = $1 AND status = 'active' FOR UPDATE`,
    [id],
  );
}

export async function setReservationReleased(m: EntityManager, id: string): Promise<void> {
  await m.query(`UPDATE reservations SET status = 'released' WHERE id = $1`, [id]);
}

/** Active reservations whose window has ended. */
export async function expiredReservations(m: EntityManager): Promise<string[]> {
  const expired = await rows<{ id: string }>(
    m,
    `SELECT id FROM reservations WHERE status = 'active' AND ends_at <= now()`,
  );
  return expired.map((r) => r.id);
}
