import type { AgentReport, Fault } from '@berth/contracts';
import { settle, type InstanceStatus } from '@berth/domain';
import {
  buildFailuresOf,
  endResize,
  endTask,
  finishOperation,
  finishSnapshotImage,
  insertResizeAwaiting,
  liveInstance,
  operationRow,
  type Actor,
  lockTask,
  markInstanceDeleted,
  settleBuildVolumes,
  releaseAllocations,
  setMigrationStatus,
  shrinkAllocation,
  type PendingResize,
} from '@berth/data';
import type { DataSource, EntityManager } from 'typeorm';
import { sizeOf } from '../instances/limits';
import { deleteReleasedVolumes } from '../volumes/volume-workflow';

/**
 * A host finished a command. The instance moves only if it still holds the task this command ran under (a delete
 * may have overtaken a build); the operation is closed either way.
 */
export async function applyResult(
  dataSource: DataSource,
  report: Extract<AgentReport, { type: 'instance.result' }>,
): Promise<void> {
  const outcome = settle(report.command, report.fault === undefined, report.powerState);
  await dataSource.transaction(async (m) => {
    const instance = await lockTask(m, report.instanceId);
    if (instance?.taskState === outcome.expectedTask) {
      if (outcome.status === 'DELETED') {
        const doomed = await markInstanceDeleted(m, report.instanceId, report.operationId);
        await deleteReleasedVolumes(m, await actorOf(m, report.operationId), doomed);
      } else {
        const failedBuild = report.command === 'instance.create' && report.fault !== undefined;
        if (failedBuild) await releaseAllocations(m, { instanceId: report.instanceId });
        if (report.command === 'instance.create') await settleBuildVolumes(m, report.instanceId, !failedBuild);
        const resized =
          report.command === 'instance.set-limits'
            ? await finishResize(m, report.instanceId, report.operationId, report.fault === undefined)
            : null;
        const fault =
          failedBuild && report.fault ? await withEarlierFailures(m, report.instanceId, report.fault) : report.fault;
        await endTask(m, report.instanceId, {
          status: resized ?? outcome.status,
          powerState: outcome.powerState,
          fault: fault ?? null,
          leftHost: failedBuild,
          launched: report.command === 'instance.create' && !failedBuild,
          applied: report.applied,
        });
      }
    }
    // The image a snapshot was making is active, or gone: whether or not the instance still held the task.
    if (report.command === 'instance.snapshot') {
      await finishSnapshotImage(m, report.operationId, report.fault ? null : (report.image ?? null));
    }
    await finishOperation(m, report.operationId, report.fault ?? null);
  });
}

/**
 * The end of a live resize: on success the instance takes its new size and limits and gives back what it no longer
 * needs (the shrink, and CPUs it no longer pins); on failure its host restored the old limits, so the growth claimed
 * for the change is given back. A resize that awaits verification keeps both sizes claimed and is recorded as a
 * migration of kind 'resize'; its revert, once applied, ends that record. Returns the status the instance then has
 * when it is not the one its power state gives (VERIFY_MIGRATION).
 */
async function finishResize(
  m: EntityManager,
  instanceId: string,
  operationId: string,
  succeeded: boolean,
): Promise<InstanceStatus | null> {
  const instance = await liveInstance(m, instanceId, null);
  const pending = instance?.pendingResize;
  if (!instance?.hostId || !pending) return null;
  const { to, grow, shrink, claimedCpus, releasedCpus } = pending;
  if (!succeeded) {
    await shrinkAllocation(m, instanceId, instance.hostId, grow, claimedCpus);
    await endResize(m, instanceId, null);
    // A revert that failed leaves the resize awaiting verification as it was.
    return pending.revertOf ? 'VERIFY_MIGRATION' : null;
  }
  if (pending.verify) {
    await insertResizeAwaiting(m, {
      instanceId,
      operationId,
      hostId: instance.hostId,
      wasRunning: instance.powerState === 'RUNNING',
      resize: {
        to: withoutCpus(to),
        previous: sizeOf(instance),
        held: { grow, shrink, claimedCpus, releasedCpus, previousCpus: instance.pinnedCpus },
      },
    });
    await endResize(m, instanceId, to);
    return 'VERIFY_MIGRATION';
  }
  await shrinkAllocation(m, instanceId, instance.hostId, shrink, releasedCpus);
  await endResize(m, instanceId, to);
  if (pending.revertOf) await setMigrationStatus(m, pending.revertOf, 'reverted');
  return null;
}

/** A size as a flavor gives it, without the CPUs the instance pins on its host. */
function withoutCpus(to: PendingResize['to']) {
  const { pinnedCpus: _pinned, ...size } = to;
  return size;
}

/** The fault of a build that failed on every host it was tried on: each host's failure, in order. */
async function withEarlierFailures(m: EntityManager, instanceId: string, last: Fault): Promise<Fault> {
  const row = await buildFailuresOf(m, instanceId);
  if (!row || row.failures.length === 0) return last;
  const all = [...row.failures, { host: row.host ?? 'its host', step: last.step, message: last.message }];
  return {
    step: last.step,
    message: `the build failed on every host tried: ${all.map((f) => `${f.host}: ${f.step}: ${f.message}`).join('; ')}`,
    at: last.at,
  };
}

/** Who asked for an operation: what follows from it (a volume deleted with its instance) is done on their behalf. */
async function actorOf(m: EntityManager, operationId: string): Promise<Actor> {
  const op = await operationRow(m, operationId, null);
  return { projectId: op?.projectId ?? null, userId: op?.userId ?? null, requestId: op?.requestId ?? null };
}
