import type { InstanceKind } from '@berth/contracts';
import type { EntityManager } from 'typeorm';
import { one } from '../sql';

/** A host enrollment's row: where to reach the host and as whom, with the private key sealed. */
export interface NewEnrollment {
  operationId: string;
  name: string;
  address: string;
  port: number;
  username: string;
  privateKeySealed: string;
  drivers: InstanceKind[];
  zone: string | null;
  hostKeyFingerprint: string | null;
}

export async function insertEnrollment(m: EntityManager, e: NewEnrollment): Promise<string> {
  const row = await one<{ id: string }>(
    m,
    `INSERT INTO host_enrollments (operation_id, name, address, port, username, private_key_sealed, drivers, zone,
                                   expected_fingerprint, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending') RETURNING id`,
    [e.operationId, e.name, e.address, e.port, e.username, e.privateKeySealed, e.drivers, e.zone, e.hostKeyFingerprint],
  );
  if (!row) throw new Error('insert into host_enrollments returned no row');
  return row.id;
}

/** A pending enrollment with its key still sealed, and the host key known at its address (null: none yet). */
export interface PendingEnrollmentRow extends Omit<NewEnrollment, 'privateKeySealed'> {
  id: string;
  sealed: string;
  known: string | null;
}

/** The enrollment while it is pending; null once it ended (or never was). */
export function pendingEnrollment(m: EntityManager, id: string): Promise<PendingEnrollmentRow | null> {
  return one<PendingEnrollmentRow>(
    m,
    `SELECT e.id, e.operation_id AS "operationId", e.name, e.address, e.port, e.username, e.drivers, e.zone,
            e.expected_fingerprint AS "hostKeyFingerprint", e.private_key_sealed AS sealed, k.fingerprint AS known
       FROM host_enrollments e LEFT JOIN known_host_keys k ON k.address = e.address AND k.port = e.port
      WHERE e.id = $1 AND e.status = 'pending'`,
    [id],
  );
}

/** Ends the enrollment: enrolled or failed, with the host key it saw. */
export async function endEnrollment(
  m: EntityManager,
  id: string,
  status: 'enrolled' | 'failed',
  fingerprint: string | null,
): Promise<void> {
  await m.query(
    `UPDATE host_enrollments SET status = $2, host_key_fingerprint = $3, updated_at = now() WHERE id = $1`,
    [id, status, fingerprint],
  );
}

/** Remembers the host key first seen at this address; a key already known stays. */
export async function pinHostKey(m: EntityManager, address: string, port: number, fingerprint: string): Promise<void> {
  await m.query(`INSERT INTO known_host_keys (address, port, fingerprint) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
    address,
    port,
    fingerprint,
  ]);
}

/** A secret of the cloud's own (sealed), with its public half. */
export function cloudSecret(m: EntityManager, name: string): Promise<{ sealed: string; public: string } | null> {
  return one(m, 'SELECT sealed, public FROM cloud_secrets WHERE name = $1', [name]);
}

/** Stores the secret unless one of that name exists (the first stored wins). */
export async function insertCloudSecret(
  m: EntityManager,
  secret: { name: string; sealed: string; public: string },
): Promise<void> {
  await m.query(`INSERT INTO cloud_secrets (name, sealed, public) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`, [
    secret.name,
    secret.sealed,
    secret.public,
  ]);
}

/** Whether the host of this name sent a heartbeat within `downAfterSec`; false when there is none. */
export async function hostUpByName(m: EntityManager, name: string, downAfterSec: number): Promise<boolean> {
  const row = await one<{ up: boolean }>(
    m,
    `SELECT last_heartbeat_at > now() - make_interval(secs => $2) AS up FROM hosts WHERE name = $1`,
    [name, downAfterSec],
  );
  return row?.up === true;
}

/** Whether the host of this name sent a heartbeat at or after `since`. */
export async function heartbeatSince(m: EntityManager, name: string, since: Date): Promise<boolean> {
  const row = await one<{ ok: boolean }>(m, 'SELECT last_heartbeat_at >= $2 AS ok FROM hosts WHERE name = $1', [
    name,
    since,
  ]);
  return row?.ok === true;
}

/** Puts the host of this name in `zone` (null: keeps its own); its id, or null when no such host. */
export async function setHostZone(m: EntityManager, name: string, zone: string | null): Promise<string | null> {
  const host = await one<{ id: string }>(m, `UPDATE hosts SET zone = coalesce($2, zone) WHERE name = $1 RETURNING id`, [
    name,
    zone,
  ]);
  return host?.id ?? null;
}
