import type { EntityManager } from 'typeorm';
import { ImageEntity } from '../entities/catalog.entity';
import { deleteEntity, insertEntity } from '../entities/rows';
import { rows } from '../sql';

/**
 * The image `ref` (an id or a name) as `projectId` may use it: public ones, and that project's private ones (every
 * image when projectId is null). By name, the project's own private image comes before a public one.
 */
export function visibleImage(
  m: EntityManager,
  ref: string,
  byId: boolean,
  projectId: string | null,
): Promise<ImageEntity | null> {
  const query = m
    .getRepository(ImageEntity)
    .createQueryBuilder('i')
    .where(byId ? 'i.id = :ref' : 'i.name = :ref', { ref })
    .andWhere(projectId === null ? 'true' : '(i.project_id IS NULL OR i.project_id = :scope)', { scope: projectId })
    .orderBy('i.project_id IS NULL', 'ASC')
    .limit(1);
  return query.getOne();
}

/** The images `projectId` may use (every image when null), by name. */
export function visibleImages(m: EntityManager, projectId: string | null): Promise<ImageEntity[]> {
  const query = m.getRepository(ImageEntity).createQueryBuilder('i').orderBy('i.name').addOrderBy('i.id');
  if (projectId !== null) query.where('i.project_id IS NULL OR i.project_id = :scope', { scope: projectId });
  return query.getMany();
}

/** What an image is made of; its id and time are the database's. */
export type NewImage = Pick<ImageEntity, 'name' | 'kind' | 'ref' | 'kernelRef' | 'initrdRef' | 'cmdline' | 'projectId'>;

export function insertImage(m: EntityManager, image: NewImage): Promise<ImageEntity> {
  return insertEntity(m, ImageEntity, image);
}

/** Deletes the image row; instances that use it keep their own reference. */
export function deleteImage(m: EntityManager, id: string): Promise<boolean> {
  return deleteEntity(m, ImageEntity, id);
}

/** A snapshot of an instance being made: a private image, `saving` until its host answers the operation. */
export interface NewSnapshotImage {
  name: string;
  kind: 'container' | 'vm';
  projectId: string;
  /** Where the host puts it (the registry repository); the host's answer gives the ref itself. */
  repository: string;
  kernelRef: string | null;
  initrdRef: string | null;
  cmdline: string | null;
  sourceInstanceId: string;
  operationId: string;
}

export async function insertSnapshotImage(m: EntityManager, id: string, s: NewSnapshotImage): Promise<void> {
  await m.query(
    `INSERT INTO images (id, name, kind, ref, kernel_ref, initrd_ref, cmdline, project_id, status, source_instance_id,
                         operation_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'saving', $9, $10)`,
    [
      id,
      s.name,
      s.kind,
      s.repository,
      s.kernelRef,
      s.initrdRef,
      s.cmdline,
      s.projectId,
      s.sourceInstanceId,
      s.operationId,
    ],
  );
}

/**
 * The host's answer to a snapshot: the image is active with the ref and size it made, or (null: it failed) gone.
 * Returns the image's id, or null when no image waited for this operation (a repeated answer).
 */
export async function finishSnapshotImage(
  m: EntityManager,
  operationId: string,
  made: { ref: string; bytes: number } | null,
): Promise<string | null> {
  const [row] = made
    ? await rows<{ id: string }>(
        m,
        `UPDATE images SET status = 'active', ref = $2, size_bytes = $3 WHERE operation_id = $1 AND status = 'saving'
         RETURNING id`,
        [operationId, made.ref, made.bytes],
      )
    : await rows<{ id: string }>(m, `DELETE FROM images WHERE operation_id = $1 AND status = 'saving' RETURNING id`, [
        operationId,
      ]);
  return row?.id ?? null;
}
