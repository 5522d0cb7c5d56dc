import { liveInstance, lockInstance, type InstanceRecord } from '@berth/data';
import { BerthError, type ActionCheck, type TaskState } from '@berth/domain';
import type { EntityManager } from 'typeorm';

/**
 * The live instance, its row locked until the transaction ends: every request that changes an instance starts
 * here. Not found (404) when it is gone or outside `projectId` (null: any project).
 */
export async function lockLiveInstance(
  m: EntityManager,
  id: string,
  projectId: string | null,
): Promise<InstanceRecord> {
  await lockInstance(m, id);
  const instance = await liveInstance(m, id, projectId);
  if (!instance) throw BerthError.notFound('instance', id);
  return instance;
}

/** The task an action begins, or a 409 saying why the instance's state refuses it. */
export function taskOrConflict(check: ActionCheck): TaskState {
  if (!check.ok) throw BerthError.conflict(check.reason, 'action', 'state');
  return check.taskState;
}
