import type { AgentReport, Fault } from '@berth/contracts';
import { settle } from '@berth/domain';
import {
  buildFailuresOf,
  endResize,
  endTask,
  finishOperation,
  lockTask,
  markInstanceDeleted,
  pendingResizeOf,
  releaseAllocations,
  shrinkAllocation,
} from '@berth/data';
import type { DataSource, EntityManager } from 'typeorm';

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
        await markInstanceDeleted(m, report.instanceId, report.operationId);
      } else {
        const failedBuild = report.command === 'instance.create' && report.fault !== undefined;
        if (failedBuild) await releaseAllocations(m, { instanceId: report.instanceId });
        if (report.command === 'instance.set-limits') {
          await finishResize(m, report.instanceId, report.fault === undefined);
        }
        const fault =
          failedBuild && report.fault ? await withEarlierFailures(m, report.instanceId, report.fault) : report.fault;
        await endTask(m, report.instanceId, {
          status: outcome.status,
          powerState: outcome.powerState,
          fault: fault ?? null,
          leftHost: failedBuild,
          launched: report.command === 'instance.create' && !failedBuild,
          applied: report.applied,
        });
      }
    }
    await finishOperation(m, report.operationId, report.fault ?? null);
  });
}

/**
 * The end of a live resize: on success the instance takes its new size and limits and gives back what it no longer
 * needs (the shrink, and CPUs it no longer pins); on failure its host restored the old limits, so the growth claimed
 * for the change is given back.
 */
async function finishResize(m: EntityManager, instanceId: string, succeeded: boolean): Promise<void> {
  const row = await pendingResizeOf(m, instanceId);
  if (!row?.pending || !row.hostId) return;
  const { to, grow, shrink, claimedCpus, releasedCpus } = row.pending;
  if (!succeeded) {
    await shrinkAllocation(m, instanceId, row.hostId, grow, claimedCpus);
    await endResize(m, instanceId, null);
    return;
  }
  await shrinkAllocation(m, instanceId, row.hostId, shrink, releasedCpus);
  await endResize(m, instanceId, to);
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
