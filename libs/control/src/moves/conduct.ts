import { artifactRef, type AgentReport, type Fault } from '@berth/contracts';
import { conductMigration, statusFollowingPower, type InstanceStatus, type MigrationMove } from '@berth/domain';
import {
  finishOperation,
  finishPart,
  hostSsh,
  lockMigration,
  recordStep,
  releaseAllocations,
  setFailed,
  setMigrationFault,
  setMigrationStatus,
  setPlaced,
  setSize,
  setSnapshotRef,
  setVolumeArtifacts,
  moveInstanceVolumes,
  settleByPower,
  takeClaimBack,
  type MigrationRow,
} from '@berth/data';
import type { EntityManager } from 'typeorm';
import { partOf, sendStep, SSH_PORT } from './steps';

export type MigrationReport = Extract<AgentReport, { type: 'migration.result' }>;

/** Where an idle instance lands after its migration ends: what its hypervisor says decides. */

const failedWithout = (report: MigrationReport): Fault => ({
  step: report.command,
  message: 'the host reported a failure without a fault',
  at: report.at,
});

/**
 * The conductor: a host reported one step of a migration, which moves on, back, or ends (conductMigration decides;
 * this applies its decision). Runs under the migration's row lock, so a report delivered twice finds the state
 * moved on and changes nothing.
 */
export async function conductReport(m: EntityManager, report: MigrationReport): Promise<MigrationMove['kind']> {
  const mig = await lockMigration(m, report.migrationId);
  if (!mig) return 'ignore';
  const move = conductMigration(mig.status, report.command, report.fault === undefined, mig.kind);
  await applyMove(m, mig, move, report);
  const part = partResult(mig, move, report);
  if (mig.parentOperationId && part) {
    await finishPart(m, mig.parentOperationId, partOf(mig.kind, mig.instanceId), { ...part, at: report.at });
  }
  return move.kind;
}

async function applyMove(m: EntityManager, mig: MigrationRow, move: MigrationMove, report: MigrationReport) {
  switch (move.kind) {
    case 'ignore':
      return;
    case 'send':
      return sendNext(m, mig, move, report);
    case 'finished':
      return finished(m, mig, report);
    case 'confirmed':
    case 'cleaned':
      await setMigrationStatus(m, mig.id, 'confirmed');
      await releaseAllocations(m, { migrationId: mig.id });
      // The source let go of its copies: the volumes, and their claims on disk, are the target's now.
      if (move.kind === 'confirmed' && mig.targetHostId) {
        await moveInstanceVolumes(m, mig.instanceId, mig.sourceHostId, mig.targetHostId);
      }
      if (move.kind === 'confirmed') {
        await settleByPower(m, mig.instanceId, statusFollowingPower);
        await finishOperation(m, report.operationId, null);
      }
      return;
    case 'confirm-failed': {
      // The instance runs on the target, with its volumes' copies there; the source's copy and claim stay for an
      // operator (its volumes' old files show as strays when its agent next starts).
      if (mig.targetHostId) await moveInstanceVolumes(m, mig.instanceId, mig.sourceHostId, mig.targetHostId);
      const fault = report.fault ?? failedWithout(report);
      await setMigrationFault(m, mig.id, 'error', fault);
      await settleByPower(m, mig.instanceId, statusFollowingPower);
      return finishOperation(m, report.operationId, fault);
    }
    case 'reverted':
      return reverted(m, mig, report);
    case 'revert-failed': {
      const fault = report.fault ?? failedWithout(report);
      await setMigrationFault(m, mig.id, 'error', fault, 'keep-first');
      await setFailed(m, mig.instanceId, { ...fault, message: `revert failed: ${fault.message}` }, report.powerState);
      return finishOperation(m, report.operationId, fault);
    }
    case 'evacuated':
      await setMigrationStatus(m, mig.id, 'evacuated');
      await landOnTarget(m, mig, report, statusFollowingPower(report.powerState), null);
      return finishOperation(m, report.operationId, null);
    case 'evacuation-failed':
      return evacuationFailed(m, mig, report);
    case 'clean-failed':
      // Tried again at the host's next power sync.
      return setMigrationStatus(m, mig.id, 'evacuated');
  }
}

/** The next step goes out; a failure that started a revert is recorded first. */
async function sendNext(
  m: EntityManager,
  mig: MigrationRow,
  move: Extract<MigrationMove, { kind: 'send' }>,
  report: MigrationReport,
): Promise<void> {
  const failure = move.failed && report.fault ? report.fault : null;
  await setMigrationFault(m, mig.id, move.status, failure);
  if (failure) {
    await recordStep(m, report.operationId, 'revert', report.at, `${failure.step} failed: ${failure.message}`);
  }
  // A VM's snapshot is its exported disk on the source: the target fetches it from there.
  let ref = mig.snapshotRef;
  if (report.command === 'migration.snapshot' && report.artifact) {
    const source = await hostSsh(m, mig.sourceHostId, SSH_PORT);
    ref = artifactRef(source?.address ?? '', SSH_PORT, report.artifact);
    await setSnapshotRef(m, mig.id, ref);
  }
  // The volumes the source exported with it: the target fetches them (and a resent fetch, the same ones).
  let volumeArtifacts = mig.volumeArtifacts;
  if (report.command === 'migration.snapshot' && report.volumes) {
    volumeArtifacts = report.volumes;
    await setVolumeArtifacts(m, mig.id, volumeArtifacts);
  }
  const next = { ...mig, status: move.status, snapshotRef: ref, volumeArtifacts };
  await sendStep(m, next, report.operationId, move.command, move.to);
}

/** Landed on the target: awaiting verification, or (a drain's or a cold resize's move) confirmed at once. */
async function finished(m: EntityManager, mig: MigrationRow, report: MigrationReport): Promise<void> {
  if (mig.resize) await setSize(m, mig.instanceId, mig.resize.to);
  if (mig.autoConfirm) {
    // The source drops its copy under the same operation.
    await setMigrationStatus(m, mig.id, 'confirming');
    await landOnTarget(m, mig, report, 'VERIFY_MIGRATION', 'confirming');
    await sendStep(m, { ...mig, status: 'confirming' }, report.operationId, 'migration.drop', 'source');
    return;
  }
  await setMigrationStatus(m, mig.id, 'finished');
  await landOnTarget(m, mig, report, 'VERIFY_MIGRATION', null);
  await finishOperation(m, report.operationId, null);
}

/** Back on the source as before; the target's claim goes and the source's returns to the instance. */
async function reverted(m: EntityManager, mig: MigrationRow, report: MigrationReport): Promise<void> {
  if (mig.resize) await setSize(m, mig.instanceId, mig.resize.previous);
  await setMigrationStatus(m, mig.id, mig.fault ? 'error' : 'reverted');
  if (mig.targetHostId) await releaseAllocations(m, { instanceId: mig.instanceId, hostId: mig.targetHostId });
  const pinned = await takeClaimBack(m, mig.id, mig.instanceId);
  await setPlaced(m, mig.instanceId, {
    hostId: mig.sourceHostId,
    pinnedCpus: pinned,
    powerState: report.powerState,
    status: statusFollowingPower(report.powerState),
    taskState: null,
    applied: report.applied,
  });
  // An automatic revert fails the migrate operation with the step that failed; a revert asked for succeeds.
  await finishOperation(m, report.operationId, mig.fault);
}

/** The rebuild failed and the target dropped it: ERROR, still recorded on its down host, which keeps its claim. */
async function evacuationFailed(m: EntityManager, mig: MigrationRow, report: MigrationReport): Promise<void> {
  const fault = mig.fault ?? report.fault ?? failedWithout(report);
  await setMigrationStatus(m, mig.id, 'error');
  if (mig.targetHostId) await releaseAllocations(m, { instanceId: mig.instanceId, hostId: mig.targetHostId });
  await takeClaimBack(m, mig.id, mig.instanceId);
  await setFailed(m, mig.instanceId, { ...fault, message: `evacuation failed: ${fault.message}` });
  await finishOperation(m, report.operationId, fault);
}

/** The instance as its target reported it: there, on the target's CPUs, with what it read back. */
function landOnTarget(
  m: EntityManager,
  mig: MigrationRow,
  report: MigrationReport,
  status: InstanceStatus,
  taskState: 'confirming' | null,
): Promise<void> {
  return setPlaced(m, mig.instanceId, {
    hostId: mig.targetHostId,
    pinnedCpus: mig.targetPinnedCpus,
    powerState: report.powerState,
    status,
    taskState,
    applied: report.applied ?? null,
  });
}

/** How a drain's or an evacuation's step for this instance ends, once its move has. */
function partResult(
  mig: MigrationRow,
  move: MigrationMove,
  report: MigrationReport,
): { ok: boolean; detail: string } | null {
  switch (move.kind) {
    case 'confirmed':
    case 'evacuated':
      return { ok: true, detail: `to ${mig.targetHost ?? '?'}` };
    case 'confirm-failed':
    case 'reverted':
    case 'revert-failed':
    case 'evacuation-failed': {
      const failure = report.fault ?? mig.fault;
      return { ok: false, detail: `${failure?.step ?? report.command} failed: ${failure?.message ?? 'unknown'}` };
    }
    case 'send':
    case 'finished':
    case 'cleaned':
    case 'clean-failed':
    case 'ignore':
      return null;
  }
}
