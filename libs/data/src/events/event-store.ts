import type { DataSource } from 'typeorm';
import { one, rows } from '../sql';

/** One row of the event log, as GET /v1/events sends it. */
export interface BerthEvent {
  /** Commit order; the SSE id and the resume token. */
  seq: number;
  type: string;
  at: Date;
  projectId: string | null;
  resource: { type: string; id: string };
  data: Record<string, unknown>;
}

/** Which events a reader may see and asked for. */
export interface EventFilter {
  /** null: every project and the hosts (the cloud admin); otherwise that project only, no hosts. */
  projectId: string | null;
  /** Only the events of this resource (an instance, an operation, a host). */
  resourceId: string | null;
  /** Only these resource types (instance, operation, host); empty: all. */
  resourceTypes: readonly string[];
}

export function eventMatches(event: BerthEvent, filter: EventFilter): boolean {
  if (filter.projectId !== null && event.projectId !== filter.projectId) return false;
  if (filter.resourceId !== null && event.resource.id !== filter.resourceId) return false;
  return filter.resourceTypes.length === 0 || filter.resourceTypes.includes(event.resource.type);
}

const EVENT_SQL = `
  SELECT seq::float8 AS seq, type, at, project_id AS "projectId",
         jsonb_build_object('type', resource_type, 'id', resource_id) AS resource, data
    FROM events`;

/** The event log the triggers of migration 11 write: reads in commit order, and pruning. */
export class EventStore {
  constructor(private readonly dataSource: DataSource) {}

  /** The newest seq committed (or pruned): a reader that starts now starts after it. */
  async head(): Promise<number> {
    const row = await one<{ head: number }>(
      this.dataSource.manager,
      `SELECT GREATEST((SELECT COALESCE(max(seq), 0) FROM events), pruned_through)::float8 AS head FROM event_horizon`,
    );
    return row?.head ?? 0;
  }

  /** The highest seq pruned: a resume from before it would miss events. */
  async horizon(): Promise<number> {
    const row = await one<{ prunedThrough: number }>(
      this.dataSource.manager,
      `SELECT pruned_through::float8 AS "prunedThrough" FROM event_horizon`,
    );
    return row?.prunedThrough ?? 0;
  }

  /** Events after `after`, up to and including `upTo` (null: no bound), oldest first. */
  after(after: number, upTo: number | null, filter: EventFilter | null, limit: number): Promise<BerthEvent[]> {
    return rows<BerthEvent>(
      this.dataSource.manager,
      `${EVENT_SQL}
        WHERE seq > $1 AND ($2::bigint IS NULL OR seq <= $2)
          AND ($3::boolean OR ($4::uuid IS NOT NULL AND project_id = $4))
          AND ($5::uuid IS NULL OR resource_id = $5)
          AND (cardinality($6::text[]) = 0 OR resource_type = ANY($6))
        ORDER BY seq LIMIT $7`,
      [
        after,
        upTo,
        filter === null || filter.projectId === null,
        filter?.projectId ?? null,
        filter?.resourceId ?? null,
        filter?.resourceTypes ?? [],
        limit,
      ],
    );
  }

  /** Deletes the events up to the newest one older than `before`, moves the horizon past them; returns how many. */
  prune(before: Date): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const [gone] = await rows<{ count: number; last: number | null }>(
        manager,
        // A prefix of the log by seq, so that the horizon is exact: everything at or below it is gone.
        `WITH gone AS (DELETE FROM events WHERE seq <= (SELECT max(seq) FROM events WHERE at < $1) RETURNING seq)
         SELECT count(*)::int AS count, max(seq)::float8 AS last FROM gone`,
        [before],
      );
      if (gone?.last !== null && gone?.last !== undefined) {
        await manager.query(`UPDATE event_horizon SET pruned_through = GREATEST(pruned_through, $1)`, [gone.last]);
      }
      return gone?.count ?? 0;
    });
  }
}
