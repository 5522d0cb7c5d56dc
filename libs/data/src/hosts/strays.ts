import type { EntityManager } from 'typeorm';
import { rows } from '../sql';

/**
 * Those of `ids` no record owns: no live instance placed on a host, and no open migration or evacuation (those end
 * by their own steps).
 */
export async function unownedAmong(m: EntityManager, ids: readonly string[]): Promise<string[]> {
  const found = await rows<{ id: string }>(
    m,
    `SELECT s.id FROM unnest($1::uuid[]) AS s(id)
      WHERE NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = s.id AND i.deleted_at IS NULL AND i.host_id IS NOT NULL)
        AND NOT EXISTS (SELECT 1 FROM instance_migrations g
                         WHERE g.instance_id = s.id AND g.status NOT IN ('confirmed', 'reverted', 'error'))`,
    [ids],
  );
  return found.map((r) => r.id);
}

/**
 * The host's strays are exactly `strays` now: those no longer seen are forgotten, the new ones remembered from now.
 * Returns the new ones.
 */
export async function rememberStrays(m: EntityManager, hostId: string, strays: readonly string[]): Promise<string[]> {
  await m.query(`DELETE FROM host_strays WHERE host_id = $1 AND NOT (instance_id = ANY ($2::uuid[]))`, [
    hostId,
    strays,
  ]);
  const found = await rows<{ id: string }>(
    m,
    `INSERT INTO host_strays (host_id, instance_id) SELECT $1, unnest($2::uuid[])
       ON CONFLICT DO NOTHING RETURNING instance_id AS id`,
    [hostId, strays],
  );
  return found.map((r) => r.id);
}

/** The host's strays first seen over `graceSec` ago and not sent for removal within it; marked as sent now. */
export async function takeStraysDue(m: EntityManager, hostId: string, graceSec: number): Promise<string[]> {
  const due = await rows<{ id: string }>(
    m,
    `UPDATE host_strays SET purge_sent_at = now()
      WHERE host_id = $1 AND first_seen_at < now() - make_interval(secs => $2)
        AND (purge_sent_at IS NULL OR purge_sent_at < now() - make_interval(secs => $2))
    RETURNING instance_id AS id`,
    [hostId, graceSec],
  );
  return due.map((r) => r.id);
}
