import {
  CONTRACT_VERSION,
  computeQueue,
  jobId,
  type InstanceSpec,
  type MigrationCommand,
  type MigrationCommandType,
  type MigrationKind,
  type SshPeer,
} from '@berth/contracts';
import {
  enqueue,
  hostSsh,
  instanceRecord,
  migrationClaimPins,
  setPendingStep,
  type InstanceRecord,
  type MigrationRow,
} from '@berth/data';
import type { EntityManager } from 'typeorm';
import { instanceLimitsOf, specOf } from '../specs/instance-spec';

/** Hosts reach each other's SSH on its standard port (a VM's disk moves over it). */
export const SSH_PORT = 22;

/** The step of a drain's or an evacuation's operation that one instance's move closes. */
export const partOf = (kind: MigrationKind, instanceId: string) =>
  `${kind === 'evacuation' ? 'evacuate' : 'migrate'} ${instanceId}`;

/**
 * Queues one step of the migration on the source or the target, with the spec as that host holds it, and records
 * it as the step awaited (what a restart of that host interrupts).
 */
export async function sendStep(
  m: EntityManager,
  mig: MigrationRow,
  operationId: string,
  type: MigrationCommandType,
  to: 'source' | 'target',
  /** Set when a step is sent again: a job of its own. */
  retry?: string,
): Promise<void> {
  const host = to === 'source' ? mig.sourceHost : mig.targetHost;
  if (!host) throw new Error(`migration ${mig.id} has no ${to} host yet`);
  if (mig.kind === 'migration' && !mig.snapshotRef) throw new Error(`migration ${mig.id} has no snapshot yet`);
  const record = await instanceRecord(m, mig.instanceId);
  if (!record) throw new Error(`instance ${mig.instanceId} vanished during its migration`);
  const command: MigrationCommand = {
    v: CONTRACT_VERSION,
    type,
    operationId,
    migrationId: mig.id,
    instance: to === 'target' ? specOnTarget(record, mig) : await specOnSource(m, record, mig),
    snapshotRef: mig.snapshotRef,
    powerOn: mig.wasRunning,
    // The registry's copy goes once the move is final (confirm); an undone move's restore removes it.
    forgetSnapshot: mig.status === 'confirming',
    ...(type === 'migration.fetch' && (record.kind === 'vm' || mig.volumeArtifacts.length > 0)
      ? { peer: await sourcePeer(m, mig) }
      : {}),
    // The instance's volumes go with it: fetched from the source's pool, and gone from the host a move leaves.
    ...(type === 'migration.fetch' && mig.volumeArtifacts.length > 0 ? { volumes: mig.volumeArtifacts } : {}),
    ...(type === 'migration.drop' && record.volumes.length > 0 && mig.kind !== 'evacuation'
      ? { dropVolumes: mig.targetHostId !== null && mig.targetHostId !== mig.sourceHostId }
      : {}),
  };
  await setPendingStep(m, mig.id, { command: type, on: to, operationId });
  await enqueue(m, {
    queue: computeQueue(host),
    name: type,
    jobId: jobId(operationId, `${type}-${host}${retry ? `-${retry}` : ''}`),
    payload: command,
  });
}

/**
 * The instance as its target builds it: a container from its snapshot image (which holds root's authorized keys as
 * the tenant left them: none are put in again), a VM from its own fetched disk on its image; a cold resize with its
 * new size, a migration with the size it has; on the CPUs claimed there.
 */
function specOnTarget(record: InstanceRecord, mig: MigrationRow): InstanceSpec {
  const { publicKeys, ...base } = specOf(record);
  const size = mig.resize?.to;
  const snapshot = base.kind === 'container' ? mig.snapshotRef : null;
  return {
    ...base,
    ...(publicKeys && !snapshot ? { publicKeys } : {}),
    imageRef: snapshot ?? base.imageRef,
    ...(size ? { diskGb: size.diskGb } : {}),
    limits: size
      ? instanceLimitsOf({ ...size, pinnedCpus: mig.targetPinnedCpus })
      : { ...base.limits, pinnedCpus: mig.targetPinnedCpus },
  };
}

/** The instance as its source holds it: on the CPUs of the claim the migration holds there. */
async function specOnSource(m: EntityManager, record: InstanceRecord, mig: MigrationRow): Promise<InstanceSpec> {
  const base = specOf(record);
  const pinned = await migrationClaimPins(m, mig.id);
  return { ...base, limits: { ...base.limits, pinnedCpus: pinned ?? base.limits.pinnedCpus } };
}

/** The source host's SSH for a target fetching a VM's disk, with the key pinned for it (if known). */
async function sourcePeer(m: EntityManager, mig: MigrationRow): Promise<SshPeer> {
  const source = await hostSsh(m, mig.sourceHostId, SSH_PORT);
  return {
    address: source?.address ?? '',
    port: SSH_PORT,
    username: source?.username ?? 'root',
    fingerprint: source?.fingerprint ?? null,
  };
}
