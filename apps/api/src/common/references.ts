import { BerthError, isUuid } from '@berth/domain';
import type { FindOptionsWhere, ObjectLiteral, Repository } from 'typeorm';

/** Finds a catalog entry by id or by name (flavor "m1.small"); a miss is a 404 naming the field. */
export async function findByRef<E extends ObjectLiteral & { id: string; name: string }>(
  repo: Repository<E>,
  ref: string,
  what: string,
  field: string,
): Promise<E> {
  const where = (isUuid(ref) ? { id: ref.toLowerCase() } : { name: ref }) as FindOptionsWhere<E>;
  const found = await repo.findOne({ where });
  if (!found) throw BerthError.notFound(what, ref, field);
  return found;
}
