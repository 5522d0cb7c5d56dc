import type { EntityManager } from 'typeorm';
import { one } from '../sql';

/**
 * A live instance's metadata, its row locked until the transaction ends; null when there is no such instance (or it
 * is another project's: `projectId` null is the cloud admin's view of all).
 */
export async function lockInstanceMetadata(
  m: EntityManager,
  instanceId: string,
  projectId: string | null,
): Promise<{ projectId: string; metadata: Record<string, string> } | null> {
  return one(
    m,
    `SELECT project_id AS "projectId", metadata FROM instances
      WHERE id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR project_id = $2) FOR UPDATE`,
    [instanceId, projectId],
  );
}

export async function writeInstanceMetadata(
  m: EntityManager,
  instanceId: string,
  metadata: Record<string, string>,
): Promise<void> {
  await m.query('UPDATE instances SET metadata = $2, updated_at = now() WHERE id = $1', [
    instanceId,
    JSON.stringify(metadata),
  ]);
}
