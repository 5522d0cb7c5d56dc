import type { EntityManager } from 'typeorm';
import { one, rows } from '../sql';

export interface KeypairRow {
  id: string;
  /** Nova's numeric id. */
  seq: number;
  userId: string;
  name: string;
  publicKey: string;
  fingerprint: string;
  createdAt: Date;
}

const COLUMNS = `id, seq::int AS seq, user_id AS "userId", name, public_key AS "publicKey", fingerprint, created_at AS "createdAt"`;

/** Stores a user's key pair; null when the user already has one of that name. */
export function insertKeypair(
  m: EntityManager,
  k: Pick<KeypairRow, 'userId' | 'name' | 'publicKey' | 'fingerprint'>,
): Promise<KeypairRow | null> {
  return one<KeypairRow>(
    m,
    `INSERT INTO keypairs (user_id, name, public_key, fingerprint) VALUES ($1, $2, $3, $4)
     ON CONFLICT ON CONSTRAINT keypairs_user_name_key DO NOTHING RETURNING ${COLUMNS}`,
    [k.userId, k.name, k.publicKey, k.fingerprint],
  );
}

export function userKeypairs(m: EntityManager, userId: string): Promise<KeypairRow[]> {
  return rows<KeypairRow>(m, `SELECT ${COLUMNS} FROM keypairs WHERE user_id = $1 ORDER BY name`, [userId]);
}

export function userKeypair(m: EntityManager, userId: string, name: string): Promise<KeypairRow | null> {
  return one<KeypairRow>(m, `SELECT ${COLUMNS} FROM keypairs WHERE user_id = $1 AND name = $2`, [userId, name]);
}

/** The deleted key pair's id; null when the user has no key pair of that name. */
export async function deleteKeypair(m: EntityManager, userId: string, name: string): Promise<string | null> {
  const gone = await one<{ id: string }>(m, 'DELETE FROM keypairs WHERE user_id = $1 AND name = $2 RETURNING id', [
    userId,
    name,
  ]);
  return gone?.id ?? null;
}
