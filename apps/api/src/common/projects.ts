import { ImageEntity, ProjectEntity } from '@berth/data';
import { BerthError, isUuid } from '@berth/domain';
import { Brackets, type DataSource } from 'typeorm';
import { projectScope, type Principal } from '../auth/principal';
import { findByRef } from './references';

/**
 * The project a create lands in: the caller's own, or for the cloud admin one named in the body.
 * A non-admin naming another project is refused without saying whether that project exists.
 */
export async function targetProject(
  dataSource: DataSource,
  principal: Principal,
  ref: string | undefined,
): Promise<string> {
  if (ref === undefined) return principal.projectId;
  if (principal.role !== 'admin') {
    if (ref === principal.projectId) return ref;
    throw BerthError.forbidden('only a cloud admin may create in another project');
  }
  return (await findByRef(dataSource.getRepository(ProjectEntity), ref, 'project', 'project')).id;
}

/**
 * Finds an image the caller may use: public ones, and private ones of its project (all, for the
 * admin). By name, the project's own private image comes before a public one of the same name.
 */
export async function findVisibleImage(
  dataSource: DataSource,
  principal: Principal,
  ref: string,
  field: string,
): Promise<ImageEntity> {
  const scope = projectScope(principal);
  const query = dataSource
    .getRepository(ImageEntity)
    .createQueryBuilder('i')
    .where(isUuid(ref) ? 'i.id = :ref' : 'i.name = :ref', { ref: isUuid(ref) ? ref.toLowerCase() : ref })
    .andWhere(
      new Brackets((q) => {
        q.where('i.project_id IS NULL');
        if (scope === null) q.orWhere('true');
        else q.orWhere('i.project_id = :scope', { scope });
      }),
    )
    .orderBy('i.project_id IS NULL', 'ASC')
    .limit(1);
  const image = await query.getOne();
  if (!image) throw BerthError.notFound('image', ref, field);
  return image;
}
