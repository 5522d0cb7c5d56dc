import type { GroupPolicy } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import { ServerGroupEntity } from '../entities/instance.entity';
import { deleteEntity, insertEntity } from '../entities/rows';
import { rows } from '../sql';

/** A server group with its live members and the hosts they run on. */
export interface ServerGroupRow {
  id: string;
  name: string;
  policy: GroupPolicy;
  projectId: string;
  createdAt: Date;
  members: Array<{ id: string; name: string; host: string | null }>;
}

const GROUP_SQL = `
  SELECT g.id, g.name, g.policy, g.project_id AS "projectId", g.created_at AS "createdAt",
         coalesce((SELECT json_agg(json_build_object('id', i.id, 'name', i.name, 'host', h.name) ORDER BY i.created_at)
                     FROM instances i LEFT JOIN hosts h ON h.id = i.host_id
                    WHERE i.server_group_id = g.id AND i.deleted_at IS NULL), '[]') AS members
    FROM server_groups g`;

/** The groups of `projectId` (null: every project's), by name. */
export function serverGroupRows(m: EntityManager, projectId: string | null): Promise<ServerGroupRow[]> {
  return rows<ServerGroupRow>(m, `${GROUP_SQL} WHERE ($1::uuid IS NULL OR g.project_id = $1) ORDER BY g.name`, [
    projectId,
  ]);
}

export async function serverGroupRow(
  m: EntityManager,
  id: string,
  projectId: string | null,
): Promise<ServerGroupRow | null> {
  const [group] = await rows<ServerGroupRow>(
    m,
    `${GROUP_SQL} WHERE g.id = $1 AND ($2::uuid IS NULL OR g.project_id = $2)`,
    [id, projectId],
  );
  return group ?? null;
}

/** A new, empty server group of the project; returns its id. */
export async function insertServerGroup(
  m: EntityManager,
  group: { name: string; policy: GroupPolicy; projectId: string },
): Promise<string> {
  return (await insertEntity(m, ServerGroupEntity, group)).id;
}

/** Deletes the group; its members stay, in no group. */
export function deleteServerGroup(m: EntityManager, id: string): Promise<boolean> {
  return deleteEntity(m, ServerGroupEntity, id);
}
