import type { Fault } from '@berth/contracts';
import type { EntityManager } from 'typeorm';
import { releaseAllocations } from '../placement/allocations';
import { groupsOfInstance, markGroupMembers } from '../security-groups/security-groups';
import { releaseInstanceVolumes, type VolumeRow } from '../volumes/volumes';

/**
 * The end of a delete. The instance row stays (status DELETED) for the audit trail; its address
 * and capacity are freed, its volumes are available again with their data (its host let them go), and any other
 * operation still running on it is closed as interrupted. Returns the volumes that were to go with it (now
 * `deleting`), for the caller to send their hosts.
 */
export async function markInstanceDeleted(
  m: EntityManager,
  instanceId: string,
  byOperationId: string,
): Promise<VolumeRow[]> {
  await releaseAllocations(m, { instanceId });
  const doomed = await releaseInstanceVolumes(m, instanceId);
  // Its address leaves its security groups: the instances whose rules name them forget it.
  const groups = await groupsOfInstance(m, instanceId);
  await m.query('DELETE FROM ports WHERE instance_id = $1', [instanceId]);
  await markGroupMembers(m, groups);
  await m.query(
    `UPDATE instances SET status = 'DELETED', task_state = NULL, power_state = 'NOSTATE', host_id = NULL,
            fault = NULL, deleted_at = now(), updated_at = now() WHERE id = $1`,
    [instanceId],
  );
  const fault: Fault = { step: 'interrupted', message: 'the instance was deleted', at: new Date().toISOString() };
  await m.query(
    `UPDATE operations SET status = 'failed', fault = $3, finished_at = now(), updated_at = now()
      WHERE target_id = $1 AND id <> $2 AND status = 'running'`,
    [instanceId, byOperationId, JSON.stringify(fault)],
  );
  return doomed;
}
