import {
  CONTRACT_VERSION,
  jobId,
  MIGRATE_INSTANCE,
  PLACEMENT_QUEUE,
  type MigrateInstanceJob,
  type MigrationKind,
  type RequestSpec,
} from '@berth/contracts';
import { BerthError } from '@berth/domain';
import {
  enqueue,
  hostIdByName,
  insertMigration,
  setMigrating,
  type ResizeRecord,
  type InstanceRecord,
} from '@berth/data';
import type { EntityManager } from 'typeorm';
import { requestSpecOf } from '../specs/instance-spec';

export interface MoveOptions {
  /** The host the admin named; null: the scheduler chooses. */
  host: string | null;
  /** A drain's or an evacuation's part: the parent operation, closed step by step as its moves end. */
  parent?: { id: string; kind: MigrationKind };
  /** A cold resize: the new size, claimed on the target; confirmed as soon as it lands unless `verify`. */
  resize?: ResizeRecord;
  /** A cold resize that awaits verification on its target, as a migration does (Nova's resize). */
  verify?: boolean;
}

/**
 * Records a migration of the instance and queues its placement, in the caller's transaction: a migration asked
 * for, a drain's or an evacuation's part, or a cold resize.
 */
export async function startMigration(
  m: EntityManager,
  instance: InstanceRecord,
  operationId: string,
  options: MoveOptions,
): Promise<void> {
  const { host, parent, resize, verify } = options;
  if (!instance.hostId || !instance.hostName) throw BerthError.conflict('the instance has no host', 'action');
  // An evacuation rebuilds from the image on another host: volumes on the dead host's storage cannot come along.
  const pinned = parent?.kind === 'evacuation' ? heldByVolumes(instance) : null;
  if (pinned) throw BerthError.conflict(pinned, 'action', 'state');
  if (host !== null) await checkNamedTarget(m, host, instance.hostId);
  const kind = parent?.kind ?? 'migration';
  const migrationId = await insertMigration(m, {
    instanceId: instance.id,
    operationId,
    sourceHostId: instance.hostId,
    requestedHost: host,
    wasRunning: instance.status === 'ACTIVE' && instance.powerState === 'RUNNING',
    parentOperationId: parent?.id ?? null,
    autoConfirm: parent !== undefined || (resize !== undefined && verify !== true),
    kind,
    lost:
      kind === 'evacuation'
        ? `what the instance wrote to its own disk since it was built: it is rebuilt from its image ${instance.imageRef}`
        : null,
    resize: resize ?? null,
  });
  await setMigrating(m, instance.id);
  const job: MigrateInstanceJob = {
    v: CONTRACT_VERSION,
    migrationId,
    operationId,
    instanceId: instance.id,
    sourceHostId: instance.hostId,
    requestedHost: host,
    request: withVolumes(
      requestSpecOf(instance, { reservation: 'none', ...(resize ? { size: resize.to } : {}) }),
      instance,
    ),
  };
  await enqueue(m, {
    queue: PLACEMENT_QUEUE,
    name: MIGRATE_INSTANCE,
    jobId: jobId(operationId, 'migrate'),
    payload: job,
  });
}

/**
 * Why the instance cannot be evacuated while volumes are attached (they live on the dead host's storage, and an
 * evacuation rebuilds from the image), or null.
 */
export function heldByVolumes(instance: InstanceRecord): string | null {
  if (instance.volumes.length === 0) return null;
  const ids = instance.volumes.map((a) => a.volume.id).join(', ');
  return `the instance has volumes attached (${ids}) on its host's storage: it cannot be rebuilt elsewhere without them`;
}

/** A move takes the instance's volumes along: the target needs their backends and room for them on its disk. */
function withVolumes(request: RequestSpec, instance: InstanceRecord): RequestSpec {
  if (instance.volumes.length === 0) return request;
  const gb = instance.volumes.reduce((sum, a) => sum + a.volume.sizeGb, 0);
  const backends = [...new Set(instance.volumes.map((a) => a.volume.backend))];
  return { ...request, diskGb: request.diskGb + gb, volumeBackends: backends };
}

/** A named target must exist and be another host than the instance's. */
async function checkNamedTarget(m: EntityManager, host: string, sourceHostId: string): Promise<void> {
  const named = await hostIdByName(m, host);
  if (!named) throw BerthError.notFound('host', host, 'host');
  if (named.id === sourceHostId) {
    throw BerthError.invalid([
      { field: 'host', rule: 'other', message: `host ${host} is where the instance already is` },
    ]);
  }
}
