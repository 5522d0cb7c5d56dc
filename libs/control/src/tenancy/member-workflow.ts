import { memberRole, removeMember, revokeMemberTokens, setMember, setPasswordHash, userCredentials } from '@berth/data';
import { ADMIN_PROJECT, BerthError, checkPassword, roleAtMost, type Role } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import { hashPassword, passwordMatches } from './passwords';

/*
 * Who may act in a project, and with which password. Changed in the caller's transaction (the API records each
 * change as an operation there).
 */

/**
 * The user holds `role` in the project from now on. admin, the cloud admin's role, is given only in the admin
 * project. A role lowered takes the user's tokens in the project with it: they carried the old role.
 */
export async function setProjectMember(
  m: EntityManager,
  project: { id: string; name: string },
  userId: string,
  role: Role,
): Promise<void> {
  if (role === 'admin' && project.name !== ADMIN_PROJECT) {
    throw BerthError.invalid([
      {
        field: 'role',
        rule: 'isIn',
        message: `admin is the cloud admin's role, given only in the ${ADMIN_PROJECT} project`,
      },
    ]);
  }
  const before = await memberRole(m, project.id, userId);
  await setMember(m, project.id, userId, role);
  if (before !== null && !roleAtMost(before, role)) await revokeMemberTokens(m, project.id, userId);
}

/** Takes the user out of the project, and revokes its tokens there at once. */
export async function removeProjectMember(m: EntityManager, projectId: string, userId: string): Promise<void> {
  if (!(await removeMember(m, projectId, userId))) throw BerthError.notFound('member', userId);
  await revokeMemberTokens(m, projectId, userId);
}

/**
 * Sets a user's password. The user itself must give its current one (`current`); a cloud admin sets or resets
 * anyone's without (current undefined), which also ends a lock-out.
 */
export async function changePassword(
  m: EntityManager,
  userId: string,
  password: unknown,
  current: string | undefined,
): Promise<void> {
  const checked = checkPassword(password);
  if (!checked.ok) throw BerthError.invalid(checked.errors);
  if (current !== undefined) {
    const user = await userCredentials(m, userId, true);
    if (!user || !(await passwordMatches(user.passwordHash, current))) {
      throw BerthError.invalid([
        { field: 'currentPassword', rule: 'matches', message: 'currentPassword is not the current password' },
      ]);
    }
  }
  if (!(await setPasswordHash(m, userId, await hashPassword(checked.value)))) throw BerthError.notFound('user', userId);
}
