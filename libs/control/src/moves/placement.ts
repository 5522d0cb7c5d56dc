import { snapshotRef, type Fault, type MigrateInstanceJob, type MigrationStatus } from '@berth/contracts';
import { statusFollowingPower, type Resources } from '@berth/domain';
import {
  claimOnHost,
  finishOperation,
  finishPart,
  handClaimToMigration,
  lockMigration,
  recordStep,
  setMigrationFault,
  setMigrationTarget,
  settleByPower,
  type HostLimits,
} from '@berth/data';
import type { DataSource } from 'typeorm';
import { partOf, sendStep } from './steps';

/**
 * Scheduler: claims the instance's resources on `host` for the migration and starts it on the source (or, for an
 * evacuation, rebuilds on the target at once: its source is down). The source's claim passes to the migration
 * record, so both hosts stay held.
 */
export function claimMigrationTarget(
  dataSource: DataSource,
  limits: HostLimits,
  /** Where snapshots go (host:port of the registry every compute host can reach). */
  registry: string,
  job: MigrateInstanceJob,
  host: { id: string; name: string },
  resources: Resources,
): Promise<'claimed' | 'host-full' | 'gone'> {
  return dataSource.transaction(async (m) => {
    const mig = await lockMigration(m, job.migrationId, 'queued');
    if (!mig) return 'gone';
    const pinned = await claimOnHost(m, { instanceId: job.instanceId }, host.id, resources, limits);
    if (!pinned) return 'host-full';
    await handClaimToMigration(m, job.instanceId, mig.sourceHostId, mig.id);
    const evacuation = mig.kind === 'evacuation';
    const ref = evacuation ? null : snapshotRef(registry, job.instanceId, mig.id);
    const status: MigrationStatus = evacuation ? 'post-migrating' : 'pre-migrating';
    await setMigrationTarget(m, mig.id, { hostId: host.id, pinnedCpus: pinned, snapshotRef: ref, status });
    await recordStep(m, job.operationId, 'schedule', new Date().toISOString(), `to host ${host.name}`);
    await sendStep(
      m,
      { ...mig, status, targetHostId: host.id, targetHost: host.name, targetPinnedCpus: pinned, snapshotRef: ref },
      job.operationId,
      evacuation ? 'migration.receive' : 'migration.snapshot',
      evacuation ? 'target' : 'source',
    );
    return 'claimed';
  });
}

/** Scheduler: no host takes the instance; it stays where it was, and the migration says why. */
export async function noHostForMigration(
  dataSource: DataSource,
  job: MigrateInstanceJob,
  message: string,
  reason: string,
): Promise<void> {
  const fault: Fault = { step: 'schedule', message, reason, at: new Date().toISOString() };
  await dataSource.transaction(async (m) => {
    const mig = await lockMigration(m, job.migrationId, 'queued');
    if (!mig) return;
    await setMigrationFault(m, mig.id, 'error', fault);
    await settleByPower(m, mig.instanceId, statusFollowingPower);
    await finishOperation(m, job.operationId, fault);
    if (mig.parentOperationId) {
      await finishPart(m, mig.parentOperationId, partOf(mig.kind, mig.instanceId), {
        ok: false,
        detail: message,
        at: fault.at,
      });
    }
  });
}
