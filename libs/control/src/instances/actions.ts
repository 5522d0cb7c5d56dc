import { CONTRACT_VERSION, computeQueue, jobId, type ComputeCommand } from '@berth/contracts';
import { ACTION_RULES, beginAction, type InstanceAction } from '@berth/domain';
import {
  deleteVolumesWithInstance,
  enqueue,
  finishOperation,
  insertOperation,
  markInstanceDeleted,
  setTaskState,
  type Actor,
} from '@berth/data';
import type { DataSource } from 'typeorm';
import { specOf } from '../specs/instance-spec';
import { deleteReleasedVolumes } from '../volumes/volume-workflow';
import { lockLiveInstance, taskOrConflict } from './begin';

/**
 * Starts a user action: checks the state machine against the locked row, sets the task state and sends the host
 * its command, all in one transaction. An instance that never reached a host is deleted right here, since no host
 * holds anything of it.
 */
export function requestAction(
  dataSource: DataSource,
  id: string,
  projectId: string | null,
  action: InstanceAction,
  actor: Actor,
  /** delete: its volumes go with it (those it was built with to go already do). */
  options: { deleteVolumes?: boolean } = {},
): Promise<string> {
  return dataSource.transaction(async (m) => {
    const instance = await lockLiveInstance(m, id, projectId);
    const taskState = taskOrConflict(beginAction(instance, action));
    const operationId = await insertOperation(
      m,
      { ...actor, projectId: instance.projectId },
      { action: `instance.${action}`, targetType: 'instance', targetId: id },
    );
    if (action === 'delete' && options.deleteVolumes) await deleteVolumesWithInstance(m, id);
    if (action === 'delete' && instance.hostId === null) {
      await deleteReleasedVolumes(m, actor, await markInstanceDeleted(m, id, operationId));
      await finishOperation(m, operationId, null);
      return operationId;
    }
    if (!instance.hostName) throw new Error(`instance ${id} in ${instance.status} has no host`);
    await setTaskState(m, id, taskState);
    const command: ComputeCommand = {
      v: CONTRACT_VERSION,
      type: ACTION_RULES[action].command,
      operationId,
      instance: specOf(instance),
    };
    await enqueue(m, {
      queue: computeQueue(instance.hostName),
      name: command.type,
      jobId: jobId(operationId, action),
      payload: command,
    });
    return operationId;
  });
}
