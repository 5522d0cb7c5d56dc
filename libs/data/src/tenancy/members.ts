import type { Role } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import { one, rows } from '../sql';

/** A user's role in a project, as the API lists it. */
export interface MemberRow {
  projectId: string;
  projectName: string;
  userId: string;
  userName: string;
  role: Role;
  createdAt: Date;
}

const MEMBER_SQL = `
  SELECT pm.project_id AS "projectId", p.name AS "projectName", pm.user_id AS "userId", u.name AS "userName",
         pm.role, pm.created_at AS "createdAt"
    FROM project_members pm JOIN projects p ON p.id = pm.project_id JOIN users u ON u.id = pm.user_id`;

/** The user holds `role` in the project from now on (added, or its role changed). */
export async function setMember(m: EntityManager, projectId: string, userId: string, role: Role): Promise<void> {
  await m.query(
    `INSERT INTO project_members (project_id, user_id, role) VALUES ($1, $2, $3)
     ON CONFLICT (project_id, user_id) DO UPDATE SET role = EXCLUDED.role`,
    [projectId, userId, role],
  );
}

/** Takes the user out of the project; false when it was not a member. */
export async function removeMember(m: EntityManager, projectId: string, userId: string): Promise<boolean> {
  const gone = await rows<{ userId: string }>(
    m,
    'DELETE FROM project_members WHERE project_id = $1 AND user_id = $2 RETURNING user_id AS "userId"',
    [projectId, userId],
  );
  return gone.length > 0;
}

/** The user's role in the project, or null when it is no member. */
export async function memberRole(m: EntityManager, projectId: string, userId: string): Promise<Role | null> {
  const found = await one<{ role: Role }>(
    m,
    'SELECT role FROM project_members WHERE project_id = $1 AND user_id = $2',
    [projectId, userId],
  );
  return found?.role ?? null;
}

/** The project's members by user name. */
export function projectMembers(m: EntityManager, projectId: string): Promise<MemberRow[]> {
  return rows<MemberRow>(m, `${MEMBER_SQL} WHERE pm.project_id = $1 ORDER BY u.name`, [projectId]);
}

/** The projects the user is a member of, by project name. */
export function userMemberships(m: EntityManager, userId: string): Promise<MemberRow[]> {
  return rows<MemberRow>(m, `${MEMBER_SQL} WHERE pm.user_id = $1 ORDER BY p.name`, [userId]);
}

/** Revokes the user's live tokens in the project (its membership ended or its role fell); returns how many. */
export async function revokeMemberTokens(m: EntityManager, projectId: string, userId: string): Promise<number> {
  const revoked = await rows<{ id: string }>(
    m,
    `UPDATE tokens SET revoked_at = now() WHERE project_id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id`,
    [projectId, userId],
  );
  return revoked.length;
}
