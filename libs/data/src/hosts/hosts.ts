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
