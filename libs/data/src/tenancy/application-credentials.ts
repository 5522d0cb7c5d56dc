import type { Role } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import { one, rows } from '../sql';

/** An application credential as stored: its secret only as an Argon2id hash. */
export interface ApplicationCredentialRow {
  id: string;
  userId: string;
  projectId: string;
  name: string;
  description: string;
  role: Role;
  unrestricted: boolean;
  expiresAt: Date | null;
  createdAt: Date;
}

const COLUMNS = `id, user_id AS "userId", project_id AS "projectId", name, description, role, unrestricted,
  expires_at AS "expiresAt", created_at AS "createdAt"`;

export type NewApplicationCredential = Omit<ApplicationCredentialRow, 'id' | 'createdAt'> & { secretHash: string };

/** Stores a credential; null when the user already has one of that name. */
export function insertApplicationCredential(
  m: EntityManager,
  c: NewApplicationCredential,
): Promise<ApplicationCredentialRow | null> {
  return one<ApplicationCredentialRow>(
    m,
    `INSERT INTO application_credentials (user_id, project_id, name, description, secret_hash, role, unrestricted, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT ON CONSTRAINT application_credentials_user_name_key DO NOTHING RETURNING ${COLUMNS}`,
    [c.userId, c.projectId, c.name, c.description, c.secretHash, c.role, c.unrestricted, c.expiresAt],
  );
}

export function userApplicationCredentials(m: EntityManager, userId: string): Promise<ApplicationCredentialRow[]> {
  return rows(m, `SELECT ${COLUMNS} FROM application_credentials WHERE user_id = $1 ORDER BY name`, [userId]);
}

export function userApplicationCredential(
  m: EntityManager,
  userId: string,
  id: string,
): Promise<ApplicationCredentialRow | null> {
  return one(m, `SELECT ${COLUMNS} FROM application_credentials WHERE user_id = $1 AND id = $2`, [userId, id]);
}

/** A credential to log in with, by its id or by its user and name, with its secret's hash. */
export function loginApplicationCredential(
  m: EntityManager,
  by: { id: string } | { userId: string; name: string },
): Promise<(ApplicationCredentialRow & { secretHash: string }) | null> {
  const [where, params] = 'id' in by ? ['id = $1', [by.id]] : ['user_id = $1 AND name = $2', [by.userId, by.name]];
  return one(m, `SELECT ${COLUMNS}, secret_hash AS "secretHash" FROM application_credentials WHERE ${where}`, params);
}

/** Deletes the user's credential, and with it every token it gave; false when the user has none by that id. */
export async function deleteApplicationCredential(m: EntityManager, userId: string, id: string): Promise<boolean> {
  const gone = await one<{ id: string }>(
    m,
    'DELETE FROM application_credentials WHERE user_id = $1 AND id = $2 RETURNING id',
    [userId, id],
  );
  return gone !== null;
}
