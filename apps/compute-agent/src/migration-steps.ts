import type {
  AppliedLimits,
  DiskArtifact,
  Fault,
  InstanceKind,
  MigrationCommand,
  PowerState,
  SshPeer,
  VolumeArtifact,
  VolumeAttachment,
} from '@berth/contracts';
import { DriverError, noSteps, type ComputeDriver } from '@berth/drivers';
import { errorMessage, type Logger } from '@berth/platform';
import type { Reporter } from './reporter';

/**
 * One host's part of a cold migration; always reports an outcome, which the conductor turns into
 * the next step or the revert. Progress of the push and the pull shows on their steps.
 */
export async function migrationStep(
  drivers: ReadonlyMap<InstanceKind, ComputeDriver>,
  reporter: Reporter,
  logger: Logger,
  command: MigrationCommand,
  /** This host's volumes, which move with their instance; null where it holds none. */
  moves: VolumeMoves | null = null,
): Promise<void> {
  const { instance, operationId, migrationId, type } = command;
  const log = logger.child({ instanceId: instance.id, operationId, migrationId, command: type });
  const driver = drivers.get(instance.kind);
  const report = (
    power: PowerState,
    outcome: {
      fault?: Fault;
      applied?: AppliedLimits | null;
      artifact?: DiskArtifact;
      volumes?: VolumeArtifact[];
    } = {},
  ) => reporter.migrationResult(command, power, outcome);
  if (!driver) {
    await report('NOSTATE', { fault: fault('driver', `this host has no ${instance.kind} driver`) });
    return;
  }
  const onStep = (step: string, detail?: string) => reporter.step(operationId, step, detail);
  const progress = (step: string) => (detail: string) => reporter.step(operationId, step, detail);
  const started = Date.now();
  try {
    const { applied, artifact, volumes } = await runStep(driver, command, moves, onStep, progress);
    log.info({ ms: Date.now() - started }, 'migration step succeeded');
    await report(await driver.powerState(instance.id), {
      applied,
      ...(artifact ? { artifact } : {}),
      ...(volumes.length > 0 ? { volumes } : {}),
    });
  } catch (error) {
    const step = error instanceof DriverError ? error.step : 'agent';
    log.warn({ step, err: errorMessage(error), ms: Date.now() - started }, 'migration step failed');
    const power = await driver.powerState(instance.id).catch(() => 'NOSTATE' as const);
    await report(power, { fault: fault(step, errorMessage(error)) });
  }
}

/** The step itself, by the driver and (for volumes) the host's pools; what it made, for the report. */
async function runStep(
  driver: ComputeDriver,
  command: MigrationCommand,
  moves: VolumeMoves | null,
  onStep: (step: string, detail?: string) => Promise<void>,
  progress: (step: string) => (detail: string) => Promise<void>,
): Promise<{ applied: AppliedLimits | null; artifact: DiskArtifact | null; volumes: VolumeArtifact[] }> {
  const { instance, type, snapshotRef } = command;
  let applied: AppliedLimits | null = null;
  let artifact: DiskArtifact | null = null;
  let volumes: VolumeArtifact[] = [];
  const held = instance.volumes ?? [];
  switch (type) {
    case 'migration.snapshot':
      if (!snapshotRef) throw new DriverError('snapshot', 'the migration names no snapshot');
      artifact = await driver.snapshot(instance, snapshotRef, onStep, progress('push'));
      if (held.length > 0) {
        // Stopped, the instance lets go of its volumes (a start mounts them again), which are then copied at rest.
        await onStep('volumes');
        await driver.releaseVolumes?.(instance);
        volumes = await needMoves(moves).exportVolumes(held);
      }
      break;
    case 'migration.fetch': {
      // A container's image comes from the registry; a VM's disk from its source host over SSH.
      const step = instance.kind === 'vm' ? 'copy' : 'pull';
      await onStep(step);
      await driver
        .fetchSnapshot(instance, snapshotRef ?? instance.imageRef, command.peer ?? null, progress(step))
        .catch((error: unknown) => {
          throw new DriverError(step, errorMessage(error));
        });
      if (command.volumes?.length) {
        await onStep('volumes');
        if (!command.peer)
          throw new DriverError('volumes', 'volumes are fetched from the source host: no peer was given');
        await needMoves(moves)
          .fetchVolumes(held, command.volumes, command.peer, progress('volumes'))
          .catch((error: unknown) => {
            throw new DriverError('volumes', errorMessage(error));
          });
      }
      break;
    }
    case 'migration.receive':
      applied = await driver.spawn(instance, onStep);
      if (!command.powerOn) {
        await driver.powerOff(instance, onStep);
        applied = null;
      }
      break;
    case 'migration.drop':
      await driver.destroy(instance, noSteps);
      if (snapshotRef) await driver.forgetSnapshot(snapshotRef, command.forgetSnapshot);
      // The move ended with the volumes on the other host: this host's copies go.
      if (command.dropVolumes && held.length > 0) await needMoves(moves).dropVolumes(held);
      break;
    case 'migration.restore':
      if (snapshotRef) await driver.forgetSnapshot(snapshotRef, true);
      if (command.powerOn) applied = await driver.powerOn(instance, onStep);
      break;
  }
  return { applied, artifact, volumes };
}

/** What a cold move does with the volumes of this host (HostVolumes). */
export interface VolumeMoves {
  /** The volumes, at rest and attached nowhere, as files the target copies. */
  exportVolumes(held: readonly VolumeAttachment[]): Promise<VolumeArtifact[]>;
  /** Copies each from the source over SSH into this host's pool, checked against its SHA-256. */
  fetchVolumes(
    held: readonly VolumeAttachment[],
    artifacts: readonly VolumeArtifact[],
    peer: SshPeer,
    onProgress: (detail: string) => Promise<void>,
  ): Promise<void>;
  /** Removes this host's copies. */
  dropVolumes(held: readonly VolumeAttachment[]): Promise<void>;
}

function needMoves(moves: VolumeMoves | null): VolumeMoves {
  if (!moves) throw new DriverError('volumes', 'this host holds no volumes: the instance cannot move with its volumes');
  return moves;
}

function fault(step: string, message: string): Fault {
  return { step, message, at: new Date().toISOString() };
}
