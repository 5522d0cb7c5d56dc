import { type ImageEntity, ProjectEntity, visibleImage } from '@berth/data';
import { BerthError, isUuid } from '@berth/domain';
import { type DataSource } from 'typeorm';
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
  const byId = isUuid(ref);
  const image = await visibleImage(dataSource.manager, byId ? ref.toLowerCase() : ref, byId, projectScope(principal));
  if (!image) throw BerthError.notFound('image', ref, field);
  return image;
}

/** An image that can be launched or pulled: one still being made from an instance (`saving`) cannot yet. */
export function requireActiveImage(image: ImageEntity, field: string): ImageEntity {
  if (image.status !== 'active') {
    throw BerthError.conflict(
      `image ${image.name} is ${image.status}: it can be used once it is active`,
      field,
      'state',
    );
  }
  return image;
}
