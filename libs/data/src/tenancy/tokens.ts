import type { EntityManager } from 'typeorm';
import { insertEntity } from '../entities/rows';
import { TokenEntity } from '../entities/tenancy.entity';
import { rows } from '../sql';

/** Those of the token ids that are still valid: not revoked, not expired. */
export async function validTokenIds(m: EntityManager, ids: readonly string[]): Promise<Set<string>> {
  const valid = await rows<{ id: string }>(
    m,
    `SELECT id FROM tokens WHERE id = ANY($1) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
    [ids],
  );
  return new Set(valid.map((r) => r.id));
}

/** Revokes the token (a second revoke keeps the first time). */
export async function revokeToken(m: EntityManager, id: string): Promise<void> {
  await m.query('UPDATE tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1', [id]);
}

/**
 * The cloud's admin project and user (the admin project's admin), made if missing, under a lock that makes concurrent API replicas agree (held
 * until the transaction ends).
 */
export async function ensureAdmin(m: EntityManager): Promise<{ project: string; user: string }> {
  await m.query(`SELECT pg_advisory_xact_lock(hashtext('berth.bootstrap-admin'))`);
  await m.query(`INSERT INTO projects (name) VALUES ('admin') ON CONFLICT (name) DO NOTHING`);
  await m.query(`INSERT INTO users (name) VALUES ('admin') ON CONFLICT (name) DO NOTHING`);
  const [ids] = await rows<{ project: string; user: string }>(
    m,
    `SELECT (SELECT id FROM projects WHERE name = 'admin') AS project, (SELECT id FROM users WHERE name = 'admin') AS "user"`,
  );
  if (!ids) throw new Error('bootstrap: admin project or user missing');
  await m.query(
    `INSERT INTO project_members (project_id, user_id, role) VALUES ($1, $2, 'admin') ON CONFLICT DO NOTHING`,
    [ids.project, ids.user],
  );
  return ids;
}

/** Whether any admin token is still valid (not revoked). */
export async function anyAdminToken(m: EntityManager): Promise<boolean> {
  const found = await rows(m, `SELECT 1 FROM tokens WHERE role = 'admin' AND revoked_at IS NULL LIMIT 1`);
  return found.length > 0;
}

/** Records the bootstrap admin token by its hash (the same secret twice is one token). */
export async function insertBootstrapToken(
  m: EntityManager,
  ids: { project: string; user: string },
  secretHash: Buffer,
): Promise<void> {
  await m.query(
    `INSERT INTO tokens (user_id, project_id, role, name, secret_hash) VALUES ($1, $2, 'admin', 'bootstrap', $3)
     ON CONFLICT (secret_hash) DO NOTHING`,
    [ids.user, ids.project, secretHash],
  );
}

/** A new token, stored by the hash of its secret (the secret itself never reaches the database). */
export type NewToken = Pick<TokenEntity, 'userId' | 'projectId' | 'role' | 'name' | 'secretHash' | 'expiresAt'> &
  Partial<Pick<TokenEntity, 'applicationCredentialId' | 'restricted'>>;

export function insertToken(m: EntityManager, token: NewToken): Promise<TokenEntity> {
  return insertEntity(m, TokenEntity, { applicationCredentialId: null, restricted: false, ...token, revokedAt: null });
}

/** A valid token with the names of its user and project: what Keystone's token document shows. */
export interface TokenSubject {
  id: string;
  userId: string;
  userName: string;
  projectId: string;
  projectName: string;
  role: TokenEntity['role'];
  createdAt: Date;
  expiresAt: Date | null;
  /** The application credential that logged in for it (Keystone shows it in the token); null for others. */
  applicationCredential: { id: string; name: string; restricted: boolean } | null;
}

/** The valid (not revoked, not expired) token whose secret hashes to `secretHash`; null when none. */
export async function tokenSubject(m: EntityManager, secretHash: Buffer): Promise<TokenSubject | null> {
  const [found] = await rows<TokenSubject>(
    m,
    `SELECT t.id, t.user_id AS "userId", u.name AS "userName", t.project_id AS "projectId", p.name AS "projectName",
            t.role, t.created_at AS "createdAt", t.expires_at AS "expiresAt",
            CASE WHEN a.id IS NULL THEN NULL
                 ELSE json_build_object('id', a.id, 'name', a.name, 'restricted', NOT a.unrestricted) END
              AS "applicationCredential"
       FROM tokens t JOIN users u ON u.id = t.user_id JOIN projects p ON p.id = t.project_id
       LEFT JOIN application_credentials a ON a.id = t.application_credential_id
      WHERE t.secret_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())`,
    [secretHash],
  );
  return found ?? null;
}

/** The projects the user holds a role in, by name, with the role: Keystone's "projects this user may scope to". */
export function userProjects(
  m: EntityManager,
  userId: string,
): Promise<Array<{ id: string; name: string; role: TokenEntity['role'] }>> {
  return rows(
    m,
    `SELECT p.id, p.name, pm.role FROM project_members pm JOIN projects p ON p.id = pm.project_id
      WHERE pm.user_id = $1 ORDER BY p.name`,
    [userId],
  );
}
