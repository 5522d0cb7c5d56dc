import { BerthError, beginMigrationAction, type MigrationAction } from '@berth/domain';
import {
  awaitingConfirmSince,
  insertOperation,
  lockOpenMigration,
  setMigrationStatus,
  setTaskState,
  type Actor,
  type InstanceRecord,
} from '@berth/data';
import type { DataSource, EntityManager } from 'typeorm';
import { requireCapability } from '../instances/capabilities';
import { startMigration } from './start';
import { sendStep } from './steps';
import { lockLiveInstance, taskOrConflict } from '../instances/begin';

/** API: starts a migration (admin), or confirms or reverts one awaiting verification. Returns its operation. */
export function requestMigration(
  dataSource: DataSource,
  instanceId: string,
  action: MigrationAction,
  actor: Actor,
  options: { host?: string } = {},
): Promise<string> {
  return dataSource.transaction(async (m) => {
    const instance = await lockLiveInstance(m, instanceId, null);
    const taskState = taskOrConflict(beginMigrationAction(instance, action));
    if (action === 'migrate') requireCapability(instance, 'cold-migrate');
    const operationId = await insertOperation(
      m,
      { ...actor, projectId: instance.projectId },
      { action: `instance.${action}`, targetType: 'instance', targetId: instanceId },
    );
    if (action === 'migrate') await startMigration(m, instance, operationId, { host: options.host ?? null });
    else await endMigration(m, instance, operationId, action);
    await setTaskState(m, instanceId, taskState);
    return operationId;
  });
}

/** confirm: the source drops its copy and the snapshot. revert: the target drops its copy, then the source restores. */
async function endMigration(
  m: EntityManager,
  instance: InstanceRecord,
  operationId: string,
  action: 'confirm' | 'revert',
): Promise<void> {
  const mig = await lockOpenMigration(m, instance.id);
  if (!mig || mig.status !== 'finished') {
    throw BerthError.conflict('the instance has no migration awaiting verification', 'action', 'state');
  }
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
