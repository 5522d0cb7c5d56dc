import { computeQueue, jobId } from '@berth/contracts';
import {
  BerthError,
  beginMigrationAction,
  NO_RESOURCES,
  statusFollowingPower,
  type MigrationAction,
} from '@berth/domain';
import {
  awaitingConfirmSince,
  enqueue,
  finishOperation,
  insertOperation,
  lockOpenMigration,
  setMigrationStatus,
  setPendingResize,
  setTaskState,
  settleByPower,
  shrinkAllocation,
  type Actor,
  type InstanceRecord,
  type MigrationRow,
  type PendingResize,
} from '@berth/data';
import type { DataSource, EntityManager } from 'typeorm';
import { requireCapability } from '../instances/capabilities';
import { limitsCommandOf } from '../specs/instance-spec';
import { startMigration } from './start';
import { sendStep } from './steps';
import { lockLiveInstance, taskOrConflict } from '../instances/begin';

export interface MigrationRequest {
  /** The host the admin named for a migrate. */
  host?: string;
  /** The caller may end only a resize (a tenant ending their own); a migration's end is an admin's. */
  onlyResize?: boolean;
}

/** API: starts a migration (admin), or confirms or reverts one awaiting verification. Returns its operation. */
export function requestMigration(
  dataSource: DataSource,
  instanceId: string,
  action: MigrationAction,
  actor: Actor,
  options: MigrationRequest = {},
): Promise<string> {
  return dataSource.transaction(async (m) => {
    const instance = await lockLiveInstance(m, instanceId, null);
    const taskState = taskOrConflict(beginMigrationAction(instance, action));
    if (action === 'migrate') requireCapability(instance, 'cold-migrate');
    const mig = action === 'migrate' ? null : await awaitingVerification(m, instance.id, options);
    const operationId = await insertOperation(
      m,
      { ...actor, projectId: instance.projectId },
      { action: `instance.${action}`, targetType: 'instance', targetId: instanceId },
    );
    if (!mig) {
      await startMigration(m, instance, operationId, { host: options.host ?? null });
      await setTaskState(m, instanceId, taskState);
    } else if (mig.kind === 'resize') {
      await endResizeInPlace(m, instance, mig, operationId, action as 'confirm' | 'revert');
    } else {
      await endMigration(m, mig, operationId, action as 'confirm' | 'revert');
      await setTaskState(m, instanceId, taskState);
    }
    return operationId;
  });
}

/** The instance's migration that awaits verification (locked), or a 409; a 403 when the caller may not end it. */
async function awaitingVerification(
  m: EntityManager,
  instanceId: string,
  options: MigrationRequest,
): Promise<MigrationRow> {
  const mig = await lockOpenMigration(m, instanceId);
  if (!mig || mig.status !== 'finished') {
    throw BerthError.conflict('the instance has no migration awaiting verification', 'action', 'state');
  }
  if (options.onlyResize && !mig.resize) {
    throw BerthError.forbidden("only an admin may confirm or revert a migration; a resize is its owner's to end");
  }
  return mig;
}

/** confirm: the source drops its copy and the snapshot. revert: the target drops its copy, then the source restores. */
async function endMigration(
  m: EntityManager,
  mig: MigrationRow,
  operationId: string,
  action: 'confirm' | 'revert',
): Promise<void> {
  const next = action === 'confirm' ? 'confirming' : 'reverting';
  await setMigrationStatus(m, mig.id, next);
  await sendStep(
    m,
    { ...mig, status: next },
    operationId,
    'migration.drop',
    action === 'confirm' ? 'source' : 'target',
  );
}

/**
 * A resize on the instance's own host. confirm: the old size's claim is given back, at once (the host already runs
 * the new size). revert: the host applies the old size again, live, within what it still holds (nothing to claim);
 * the report of that change ends the record (finishResize).
 */
async function endResizeInPlace(
  m: EntityManager,
  instance: InstanceRecord,
  mig: MigrationRow,
  operationId: string,
  action: 'confirm' | 'revert',
): Promise<void> {
  const held = mig.resize?.held;
  if (!mig.resize || !held || !instance.hostName) throw new Error(`resize ${mig.id} holds no record of its sizes`);
  if (action === 'confirm') {
    await shrinkAllocation(m, instance.id, mig.sourceHostId, held.shrink, held.releasedCpus);
    await setMigrationStatus(m, mig.id, 'confirmed');
    await settleByPower(m, instance.id, statusFollowingPower);
    await finishOperation(m, operationId, null);
    return;
  }
  const back: PendingResize = {
    to: { ...mig.resize.previous, pinnedCpus: held.previousCpus },
    grow: NO_RESOURCES,
    shrink: held.grow,
    claimedCpus: [],
    releasedCpus: held.claimedCpus,
    revertOf: mig.id,
  };
  await setPendingResize(m, instance.id, 'resizing', back);
  const command = limitsCommandOf(instance, back.to, operationId);
  await enqueue(m, {
    queue: computeQueue(instance.hostName),
    name: command.type,
    jobId: jobId(operationId, 'revert'),
    payload: command,
  });
}

/**
 * Scheduler: confirms every migration that has awaited verification for `afterSec` or more (Nova's
 * resize_confirm_window), as the operator would. Returns the instances it confirmed.
 */
export async function autoConfirmMigrations(dataSource: DataSource, afterSec: number): Promise<string[]> {
  const confirmed: string[] = [];
  for (const instanceId of await awaitingConfirmSince(dataSource.manager, afterSec)) {
    try {
      await requestMigration(dataSource, instanceId, 'confirm', {
        projectId: null,
        userId: null,
        requestId: 'auto-confirm',
      });
      confirmed.push(instanceId);
    } catch (error) {
      // Confirmed or reverted meanwhile by an operator: nothing is due any more.
      if (!(error instanceof BerthError)) throw error;
    }
  }
  return confirmed;
}
