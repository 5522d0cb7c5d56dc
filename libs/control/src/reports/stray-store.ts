import { CONTRACT_VERSION, computeQueue, HOST_PURGE, type AgentReport, type HostPurgeCommand } from '@berth/contracts';
import type { DataSource } from 'typeorm';
import { enqueue, one, rows } from '@berth/data';

type PowerStates = Extract<AgentReport, { type: 'host.power-states' }>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a host's power sync showed of strays: first seen now, and sent for removal now. */
export interface StrayVerdict {
  found: string[];
  purged: string[];
}

/**
 * Workloads and port leftovers on a host that no record owns: an instance deleted or never known,
 * or one whose build was given up (no host recorded). One recorded on another host is left alone,
 * and so is one in an open migration or evacuation (those end by their own steps). Each stray is
 * remembered from when it was first seen; after `graceSec` the host is told to remove it.
 */
export class StrayStore {
  constructor(private readonly dataSource: DataSource) {}

  judge(report: PowerStates, graceSec: number): Promise<StrayVerdict> {
    const busy = new Set(report.busy);
    const seen = [...new Set([...report.instances, ...report.traces].map((i) => i.instanceId))].filter(
      (id) => UUID.test(id) && !busy.has(id),
    );
    return this.dataSource.transaction(async (m) => {
      const host = await one<{ id: string }>(m, 'SELECT id FROM hosts WHERE name = $1 FOR UPDATE', [report.host]);
      if (!host) return { found: [], purged: [] };
      const strays = (
        await rows<{ id: string }>(
          m,
          `SELECT s.id FROM unnest($1::uuid[]) AS s(id)
            WHERE NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = s.id AND i.deleted_at IS NULL AND i.host_id IS NOT NULL)
              AND NOT EXISTS (SELECT 1 FROM instance_migrations g
                               WHERE g.instance_id = s.id AND g.status NOT IN ('confirmed', 'reverted', 'error'))`,
          [seen],
        )
      ).map((r) => r.id);
      await m.query(`DELETE FROM host_strays WHERE host_id = $1 AND NOT (instance_id = ANY ($2::uuid[]))`, [
        host.id,
        strays,
      ]);
      const found = (
        await rows<{ id: string }>(
          m,
          `INSERT INTO host_strays (host_id, instance_id) SELECT $1, unnest($2::uuid[])
             ON CONFLICT DO NOTHING RETURNING instance_id AS id`,
          [host.id, strays],
        )
      ).map((r) => r.id);
      if (graceSec <= 0) return { found, purged: [] };
      const purged = (
        await rows<{ id: string }>(
          m,
          `UPDATE host_strays SET purge_sent_at = now()
            WHERE host_id = $1 AND first_seen_at < now() - make_interval(secs => $2)
              AND (purge_sent_at IS NULL OR purge_sent_at < now() - make_interval(secs => $2))
          RETURNING instance_id AS id`,
          [host.id, graceSec],
        )
      ).map((r) => r.id);
      if (purged.length > 0) {
        const command: HostPurgeCommand = { v: CONTRACT_VERSION, type: 'host.purge', instanceIds: purged };
        await enqueue(m, {
          queue: computeQueue(report.host),
          name: HOST_PURGE,
          jobId: `purge.${report.host}.${report.at}`,
          payload: command,
        });
      }
      return { found, purged };
    });
  }
}
