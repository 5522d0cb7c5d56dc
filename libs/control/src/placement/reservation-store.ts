import type { CpuPolicy, InstanceKind } from '@berth/contracts';
import {
  BerthError,
  resourcesOf,
  selectHosts,
  type HostCandidate,
  type PlacementRequest,
  type SchedulerPolicy,
} from '@berth/domain';
import type { DataSource } from 'typeorm';
import {
  type FlavorSpec,
  claimOnHost,
  releaseAllocations,
  type HostLimits,
  loadHostState,
  loadHostStates,
  insertOperation,
  type Actor,
  one,
  rows,
} from '@berth/data';

export interface NewReservation {
  actor: Actor;
  projectId: string | null;
  flavor: FlavorSpec;
  kind: InstanceKind;
  /** Each slot's pids limit: the flavor's, or the cloud's default. */
  pidsLimit: number;
  count: number;
  zone: string | null;
  startsAt: Date;
  endsAt: Date;
}

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

/**
 * Reservations hold capacity for a peak: their slots are allocations claimed now, exactly like a
 * build's, so no other request can take them; creates that name the reservation draw from them.
 */
export class ReservationStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly limits: HostLimits,
  ) {}

  /** Claims `count` slots across the hosts the policy prefers, all or none (409 with how many fit). */
  async create(input: NewReservation, policy: SchedulerPolicy): Promise<ReservationRecord> {
    const id = await this.dataSource.transaction(async (m) => {
      const row = await one<{ id: string }>(
        m,
        `INSERT INTO reservations (project_id, flavor_id, flavor_name, kind, vcpus, ram_mb, disk_gb, zone, count, starts_at,
                                   ends_at, cpu_policy, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'active') RETURNING id`,
        [
          input.projectId,
          input.flavor.id,
          input.flavor.name,
          input.kind,
          input.flavor.vcpus,
          input.flavor.ramMb,
          input.flavor.diskGb,
          input.zone,
          input.count,
          input.startsAt,
          input.endsAt,
          input.flavor.cpuPolicy,
        ],
      );
      if (!row) throw new Error('insert into reservations returned no row');
      const request: PlacementRequest = {
        kind: input.kind,
        resources: resourcesOf({ ...input.flavor, kind: input.kind, pidsLimit: input.pidsLimit }),
        zone: input.zone,
        extraSpecs: input.flavor.extraSpecs,
        vlan: null,
        imageRef: null,
        group: null,
      };
      let hosts: HostCandidate[] = await loadHostStates(m, this.limits.downAfterSec);
      let claimed = 0;
      let misses = 0;
      while (claimed < input.count && misses < 3 * input.count + 10) {
        const { chosen } = selectHosts(request, hosts, { ...policy, subsetSize: 1, alternates: 0 });
        if (!chosen) break;
        const ok =
          (await claimOnHost(m, { reservationId: row.id }, chosen.id, request.resources, this.limits)) !== null;
        const fresh = await loadHostState(m, this.limits.downAfterSec, chosen.id);
        hosts = hosts.map((h) => (h.id === chosen.id && fresh ? fresh : h));
        if (ok) claimed += 1;
        else misses += 1;
      }
      if (claimed < input.count) {
        throw BerthError.conflict(
          `only ${claimed} of ${input.count} ${input.flavor.name} fit in the capacity left`,
          'count',
          'capacity',
        );
      }
      await insertOperation(
        m,
        { ...input.actor, projectId: input.projectId ?? input.actor.projectId },
        {
          action: 'reservation.create',
          targetType: 'reservation',
          targetId: row.id,
          finished: true,
        },
      );
      return row.id;
    });
    const created = await this.get(id, null);
    if (!created) throw new Error(`reservation ${id} vanished`);
    return created;
  }

  /**
   * Null when it does not exist or `projectId` may not see it. A project sees the reservations for it
   * and those for any project; null sees every one.
   */
  get(id: string, projectId: string | null): Promise<ReservationRecord | null> {
    return one<ReservationRecord>(
      this.dataSource.manager,
      `${RESERVATION_SQL} WHERE r.id = $1 AND ${visibleTo('$2')}`,
      [id, projectId],
    );
  }

  /** The reservations `projectId` may see (as `get`), newest first. */
  list(projectId: string | null): Promise<ReservationRecord[]> {
    return rows<ReservationRecord>(
      this.dataSource.manager,
      `${RESERVATION_SQL} WHERE ${visibleTo('$1')} ORDER BY r.created_at DESC, r.id`,
      [projectId],
    );
  }

  /** Gives the slots not drawn back to the common pool. Instances already drawn keep running. */
  async release(id: string, actor: Actor | null): Promise<boolean> {
    return this.dataSource.transaction(async (m) => {
      const found = await one<{ projectId: string | null }>(
        m,
        `SELECT project_id AS "projectId" FROM reservations WHERE id = $1 AND status = 'active' FOR UPDATE`,
        [id],
      );
      if (!found) return false;
      await releaseAllocations(m, { reservationId: id });
      await m.query(`UPDATE reservations SET status = 'released' WHERE id = $1`, [id]);
      if (actor) {
        await insertOperation(
          m,
          { ...actor, projectId: found.projectId ?? actor.projectId },
          {
            action: 'reservation.release',
            targetType: 'reservation',
            targetId: id,
            finished: true,
          },
        );
      }
      return true;
    });
  }

  /** Releases every reservation whose window has ended. Returns their ids. */
  async releaseExpired(): Promise<string[]> {
    const expired = await rows<{ id: string }>(
      this.dataSource.manager,
      `SELECT id FROM reservations WHERE status = 'active' AND ends_at <= now()`,
    );
    const released: string[] = [];
    for (const { id } of expired) if (await this.release(id, null)) released.push(id);
    return released;
  }
}
