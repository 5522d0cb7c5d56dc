import type { DeepPartial, EntityManager, EntityTarget, FindOptionsWhere, ObjectLiteral } from 'typeorm';

/*
 * Writes of one row of a mapped entity, for the tables whose rows the API creates and deletes whole (the
 * catalog: flavors, projects, users; images, aggregates, server groups, tokens). Modules name their own
 * (insertImage, deleteServerGroup, ...) on top of these.
 */

/** Inserts one row and returns it as stored: generated ids, defaults and timestamps filled in. */
export function insertEntity<E extends ObjectLiteral>(
  m: EntityManager,
  entity: EntityTarget<E>,
  values: DeepPartial<NoInfer<E>>,
): Promise<E> {
  const repository = m.getRepository(entity);
  return repository.save(repository.create(values));
}

/** Deletes the row with this id; false when there was none. */
export async function deleteEntity<E extends ObjectLiteral & { id: string }>(
  m: EntityManager,
  entity: EntityTarget<E>,
  id: string,
): Promise<boolean> {
  const result = await m.getRepository(entity).delete({ id } as FindOptionsWhere<E>);
  return (result.affected ?? 0) > 0;
}
