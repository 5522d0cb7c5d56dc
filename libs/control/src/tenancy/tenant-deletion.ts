import { deleteProjectRow, deleteUserRow, lockCloudAdmins, lockProjectHoldings } from '@berth/data';
import { ADMIN_PROJECT, BerthError } from '@berth/domain';
import type { EntityManager } from 'typeorm';

/*
 * Deleting tenants, in the caller's transaction (the API records each as an operation there). Nothing a tenant
 * made is taken with it: a project goes only once it holds nothing, and what it once held keeps its id.
 */

/**
 * Deletes an empty project: refused (409 inUse) while it holds instances, volumes or active reservations, and for the admin
 * project. Its tokens, members, images and groups go with it.
 */
export async function deleteProject(m: EntityManager, project: { id: string; name: string }): Promise<void> {
  if (project.name === ADMIN_PROJECT) {
    throw BerthError.conflict(`the ${ADMIN_PROJECT} project holds the cloud admins and stays`, 'id', 'conflict');
  }
  const holds = await lockProjectHoldings(m, project.id);
  if (!holds) throw BerthError.notFound('project', project.id);
  const left = [
    holds.instances > 0 ? `${holds.instances} instance(s)` : null,
    holds.reservations > 0 ? `${holds.reservations} active reservation(s)` : null,
    holds.volumes > 0 ? `${holds.volumes} volume(s)` : null,
  ].filter((s): s is string => s !== null);
  if (left.length > 0) {
    throw BerthError.conflict(
      `project ${project.name} still holds ${left.join(' and ')}; delete them first`,
      'id',
      'inUse',
    );
  }
  await deleteProjectRow(m, project.id);
}

/**
 * Deletes a user: its tokens are revoked at once (their event streams end) and its memberships end. Refused (409)
 * for the last cloud admin, who could not be replaced.
 */
export async function deleteUser(m: EntityManager, userId: string): Promise<void> {
  const admins = await lockCloudAdmins(m, ADMIN_PROJECT);
  if (admins.length === 1 && admins[0] === userId) {
    throw BerthError.conflict('this is the last cloud admin; make another one first', 'id', 'conflict');
  }
  if (!(await deleteUserRow(m, userId))) throw BerthError.notFound('user', userId);
}
