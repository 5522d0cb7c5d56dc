import { insertOperation, lockInstanceMetadata, writeInstanceMetadata, type Actor } from '@berth/data';
import { BerthError, METADATA_MAX_ITEMS, type Metadata } from '@berth/domain';
import type { DataSource } from 'typeorm';

/**
 * Changes a live instance's metadata under its row lock: `change` gets the current pairs and answers the new ones,
 * which may hold at most METADATA_MAX_ITEMS (400 past it). The change
 * is on record as an operation of the instance's project. Answers the pairs as they now are.
 */
export async function changeMetadata(
  dataSource: DataSource,
  instanceId: string,
  scope: string | null,
  change: (current: Metadata) => Metadata,
  actor: Actor,
): Promise<Metadata> {
  return dataSource.transaction(async (m) => {
    const found = await lockInstanceMetadata(m, instanceId, scope);
    if (!found) throw BerthError.notFound('instance', instanceId);
    const next = change(found.metadata);
    const count = Object.keys(next).length;
    if (count > METADATA_MAX_ITEMS) {
      const message = `metadata may hold at most ${METADATA_MAX_ITEMS} pairs; this change would make ${count}`;
      throw BerthError.invalid([{ field: 'metadata', rule: 'maxItems', message }]);
    }
    await writeInstanceMetadata(m, instanceId, next);
    await insertOperation(
      m,
      { ...actor, projectId: found.projectId },
      { action: 'instance.metadata', targetType: 'instance', targetId: instanceId, finished: true },
    );
    return next;
  });
}
