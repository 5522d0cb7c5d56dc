import type { AppliedLimits, DiskArtifact, Fault, InstanceKind, MigrationCommand, PowerState } from '@berth/contracts';
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
): Promise<void> {
  const { instance, operationId, migrationId, type, snapshotRef } = command;
  const log = logger.child({ instanceId: instance.id, operationId, migrationId, command: type });
  const driver = drivers.get(instance.kind);
  const report = (
    power: PowerState,
    outcome: { fault?: Fault; applied?: AppliedLimits | null; artifact?: DiskArtifact } = {},
  ) => reporter.migrationResult(command, power, outcome);
  if (!driver) {
    await report('NOSTATE', { fault: fault('driver', `this host has no ${instance.kind} driver`) });
    return;
  }
  const onStep = (step: string, detail?: string) => reporter.step(operationId, step, detail);
  const progress = (step: string) => (detail: string) => reporter.step(operationId, step, detail);
  const started = Date.now();
  try {
    let applied: AppliedLimits | null = null;
    let artifact: DiskArtifact | null = null;
    switch (type) {
      case 'migration.snapshot':
        if (!snapshotRef) throw new DriverError('snapshot', 'the migration names no snapshot');
        artifact = await driver.snapshot(instance, snapshotRef, onStep, progress('push'));
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
        break;
      case 'migration.restore':
        if (snapshotRef) await driver.forgetSnapshot(snapshotRef, true);
        if (command.powerOn) applied = await driver.powerOn(instance, onStep);
        break;
    }
    log.info({ ms: Date.now() - started }, 'migration step succeeded');
    await report(await driver.powerState(instance.id), { applied, ...(artifact ? { artifact } : {}) });
  } catch (error) {
    const step = error instanceof DriverError ? error.step : 'agent';
    log.warn({ step, err: errorMessage(error), ms: Date.now() - started }, 'migration step failed');
    const power = await driver.powerState(instance.id).catch(() => 'NOSTATE' as const);
    await report(power, { fault: fault(step, errorMessage(error)) });
  }
}

function fault(step: string, message: string): Fault {
  return { step, message, at: new Date().toISOString() };
}
