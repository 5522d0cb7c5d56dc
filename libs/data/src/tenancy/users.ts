import { isUuid } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import { one } from '../sql';

/** What a password login needs to know of a user; the hash never leaves the workflow that checks it. */
export interface UserCredentials {
  id: string;
  name: string;
  passwordHash: string | null;
  failedLogins: number;
  lockedUntil: Date | null;
}

/**
 * The user named `ref` (its name, or its id); null when none. With `lock`, its row stays locked until the
 * transaction ends, so that failed logins in parallel are counted one after another.
 */
export function userCredentials(m: EntityManager, ref: string, lock = false): Promise<UserCredentials | null> {
  const byId = isUuid(ref);
  return one<UserCredentials>(
    m,
    `SELECT id, name, password_hash AS "passwordHash", failed_logins AS "failedLogins", locked_until AS "lockedUntil"
       FROM users WHERE ${byId ? 'id = $1::uuid' : 'name = $1'}${lock ? ' FOR UPDATE' : ''}`,
    [byId ? ref.toLowerCase() : ref],
  );
}

/** Sets the user's password hash (null: no password logins), which also ends a lock-out. */
export async function setPasswordHash(m: EntityManager, userId: string, hash: string | null): Promise<boolean> {
  const updated = await one<{ id: string }>(
    m,
    `UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL WHERE id = $1 RETURNING id`,
    [userId, hash],
  );
  return updated !== null;
}

/** After a login: the user's failures in a row and until when it is locked out. */
export async function setLoginFailures(
  m: EntityManager,
  userId: string,
  failures: number,
  lockedUntil: Date | null,
): Promise<void> {
  await m.query('UPDATE users SET failed_logins = $2, locked_until = $3 WHERE id = $1', [
    userId,
    failures,
    lockedUntil,
  ]);
}

/** The users who are cloud admins (admin in the admin project), locked until the transaction ends. */
export async function lockCloudAdmins(m: EntityManager, adminProject: string): Promise<string[]> {
  const found = await m.query<Array<{ id: string }>>(
    `SELECT u.id FROM users u
       JOIN project_members pm ON pm.user_id = u.id AND pm.role = 'admin'
       JOIN projects p ON p.id = pm.project_id AND p.name = $1
      ORDER BY u.id FOR UPDATE OF u`,
    [adminProject],
  );
  return found.map((r) => r.id);
}

/**
 * Deletes the user row: its tokens (whose event streams end at once) and memberships go with it; the instances it
 * made and the audit trail keep its id. False when there is no such user.
 */
export async function deleteUserRow(m: EntityManager, userId: string): Promise<boolean> {
  return (await one<{ id: string }>(m, 'DELETE FROM users WHERE id = $1 RETURNING id', [userId])) !== null;
}
