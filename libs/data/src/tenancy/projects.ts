import type { EntityManager } from 'typeorm';
import { one } from '../sql';

/** What a project still holds that must go before the project can. */
export interface ProjectHoldings {
  /** Instances not deleted (any status, ERROR included). */
  instances: number;
  /** Reservations still holding capacity on hosts. */
  reservations: number;
  /** Volumes, in any status: each is the project's data. */
  volumes: number;
}

/**
 * Locks the project row (every create takes this lock first, lockProjectQuota) and counts what it holds; null when
 * there is no such project.
 */
export function lockProjectHoldings(m: EntityManager, projectId: string): Promise<ProjectHoldings | null> {
  return one<ProjectHoldings>(
    m,
    `SELECT (SELECT count(*) FROM instances WHERE project_id = p.id AND deleted_at IS NULL)::int AS instances,
            (SELECT count(*) FROM reservations WHERE project_id = p.id AND status = 'active')::int AS reservations,
            (SELECT count(*) FROM volumes WHERE project_id = p.id)::int AS volumes
       FROM projects p WHERE p.id = $1 FOR UPDATE`,
    [projectId],
  );
}

/**
 * Deletes the project row: its tokens (whose event streams end at once), members, images, server and security groups
 * and released reservations go with it; deleted instances and the audit trail keep its id.
 */
export async function deleteProjectRow(m: EntityManager, projectId: string): Promise<void> {
  await m.query('DELETE FROM projects WHERE id = $1', [projectId]);
}
