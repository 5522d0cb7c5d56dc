import type { EntityManager } from 'typeorm';
import { ImageEntity } from '../entities/catalog.entity';
import { deleteEntity, insertEntity } from '../entities/rows';

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
