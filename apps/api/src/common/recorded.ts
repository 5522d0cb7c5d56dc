import { insertOperation, isUniqueViolation, violatedConstraint, type Actor } from '@berth/data';
import { BerthError } from '@berth/domain';
import type { DataSource, EntityManager } from 'typeorm';

/** Unique constraints users can hit, and the field each one is about. */
const UNIQUE_FIELDS: Record<string, { field: string; message: string }> = {
  flavors_name_key: { field: 'name', message: 'a flavor with this name already exists' },
  images_public_name: { field: 'name', message: 'a public image with this name already exists' },
  images_private_name: { field: 'name', message: 'this project already has an image with this name' },
  projects_name_key: { field: 'name', message: 'a project with this name already exists' },
  users_name_key: { field: 'name', message: 'a user with this name already exists' },
  aggregates_name_key: { field: 'name', message: 'an aggregate with this name already exists' },
  server_groups_project_id_name_key: {
    field: 'name',
    message: 'this project already has a server group with this name',
  },
  networks_name_key: { field: 'name', message: 'a network with this name already exists' },
  security_groups_project_id_name_key: {
    field: 'name',
    message: 'this project already has a security group with this name',
  },
  networks_vlan_key: { field: 'vlan', message: 'another network already uses this VLAN' },
  volume_types_name_key: { field: 'name', message: 'a volume type with this name already exists' },
};

/**
 * Runs a synchronous change and records it as a finished operation in the same transaction, so the
 * audit trail holds every mutation. A known unique violation becomes a 409 naming its field.
 */
export async function recordedChange<T extends { id: string }>(
  dataSource: DataSource,
  actor: Actor,
  action: string,
  targetType: string,
  change: (m: EntityManager) => Promise<T>,
): Promise<T> {
  try {
    return await dataSource.transaction(async (m) => {
      const result = await change(m);
      await insertOperation(m, actor, { action, targetType, targetId: result.id, finished: true });
      return result;
    });
  } catch (error) {
    const known = isUniqueViolation(error) ? UNIQUE_FIELDS[violatedConstraint(error) ?? ''] : undefined;
    if (known) throw BerthError.conflict(known.message, known.field, 'unique');
    throw error;
  }
}
