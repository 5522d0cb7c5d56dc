import { deleteEntity, insertEntity, type Actor } from '@berth/data';
import { BerthError } from '@berth/domain';
import type { DataSource, DeepPartial, EntityTarget, FindOptionsOrder, FindOptionsWhere, ObjectLiteral } from 'typeorm';
import { recordedChange } from './recorded';

/**
 * Create, list, show and delete for named cloud-wide entries (flavors, projects, users), each change
 * recorded as an operation in the same transaction. `kind` names the entry in errors and operations.
 */
export class Catalog<E extends ObjectLiteral & { id: string; name: string }> {
  constructor(
    private readonly dataSource: DataSource,
    private readonly entity: EntityTarget<E>,
    private readonly kind: string,
  ) {}

  create(actor: Actor, values: DeepPartial<E>): Promise<E> {
    return recordedChange(this.dataSource, actor, `${this.kind}.create`, this.kind, (m) =>
      insertEntity(m, this.entity, values),
    );
  }

  list(): Promise<E[]> {
    return this.dataSource.getRepository(this.entity).find({ order: { name: 'ASC' } as FindOptionsOrder<E> });
  }

  async get(id: string): Promise<E> {
    const found = await this.dataSource.getRepository(this.entity).findOneBy({ id } as FindOptionsWhere<E>);
    if (!found) throw BerthError.notFound(this.kind, id);
    return found;
  }

  async remove(actor: Actor, id: string): Promise<void> {
    await recordedChange(this.dataSource, actor, `${this.kind}.delete`, this.kind, async (m) => {
      const found = await m.getRepository(this.entity).findOneBy({ id } as FindOptionsWhere<E>);
      if (!found) throw BerthError.notFound(this.kind, id);
      await deleteEntity(m, this.entity, id);
      return found;
    });
  }
}
