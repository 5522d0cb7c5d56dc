import {
  CONTRACT_VERSION,
  computeQueue,
  jobId,
  type AgentReport,
  type ComputeCommand,
  type PowerState,
} from '@berth/contracts';
import { syncPowerState, type InstanceStatus, type PowerSync } from '@berth/domain';
import {
  enqueue,
  insertOperation,
  instanceRecord,
  lockIdleInstancesOn,
  recordStep,
  setPowerSynced,
  setTaskState,
} from '@berth/data';
import type { DataSource, EntityManager } from 'typeorm';
import { specOf } from '../specs/instance-spec';

/** One instance the power-state sync moved. */
export interface PowerSyncChange {
  instanceId: string;
  from: { status: InstanceStatus; powerState: PowerState };
  to: PowerSync;
  /** The start its restart policy asked for (an instance found stopped outside Berth), under this operation. */
  restartOperationId?: string;
}

/**
 * A host's periodic power-state sync. Only idle instances are judged (no task in flight, not reported busy), and
 * only of the kinds whose hypervisor answered; each row changes under its lock.
 */
export function applyPowerStates(
  dataSource: DataSource,
  report: Extract<AgentReport, { type: 'host.power-states' }>,
): Promise<PowerSyncChange[]> {
  const reported = new Map(report.instances.map((i) => [i.instanceId, i.powerState]));
  return dataSource.transaction(async (m) => {
    const changes: PowerSyncChange[] = [];
    for (const row of await lockIdleInstancesOn(m, report.host, report.kinds, report.busy)) {
      const next = syncPowerState(row, reported.get(row.id));
      if (!next) continue;
      const fault = next.fault ? { ...next.fault, at: report.at } : null;
      await setPowerSynced(m, row.id, { status: next.status, powerState: next.powerState, fault });
      const stoppedBehindOurBack = row.status === 'ACTIVE' && next.status === 'SHUTOFF';
      const restartOperationId =
        stoppedBehindOurBack && row.restartPolicy === 'always' ? await restart(m, row.id, report.at) : undefined;
      changes.push({
        instanceId: row.id,
        from: { status: row.status, powerState: row.powerState },
        to: next,
        ...(restartOperationId ? { restartOperationId } : {}),
      });
    }
    return changes;
  });
}

/**
 * Starts an instance again by its restart policy, in the transaction that recorded it SHUTOFF: an operation of no
 * user (`instance.start`, its first step `sync`) and the start command to its host.
 */
async function restart(m: EntityManager, instanceId: string, at: string): Promise<string> {
  const instance = await instanceRecord(m, instanceId);
  if (!instance?.hostName) throw new Error(`instance ${instanceId} has no host to restart on`);
  const operationId = await insertOperation(
    m,
    { projectId: instance.projectId, userId: null, requestId: null },
    { action: 'instance.start', targetType: 'instance', targetId: instanceId },
  );
  await recordStep(m, operationId, 'sync', at, 'found stopped outside Berth; started again by its restart policy');
  await setTaskState(m, instanceId, 'powering-on');
  const command: ComputeCommand = {
    v: CONTRACT_VERSION,
    type: 'instance.start',
    operationId,
    instance: specOf(instance),
  };
  await enqueue(m, {
    queue: computeQueue(instance.hostName),
    name: command.type,
    jobId: jobId(operationId, 'start'),
    payload: command,
  });
  return operationId;
}
