import { CONTRACT_VERSION, type InterruptedCommand } from '@berth/contracts';
import { recoverMigration, type MigrationRecovery } from '@berth/domain';
import { lockActiveMigrationsOn, recordStep } from '@berth/data';
import type { DataSource } from 'typeorm';
import { conductReport, type MigrationReport } from './conduct';
import { sendStep } from './steps';

export interface RecoveredMigration {
  migrationId: string;
  instanceId: string;
  recovery: MigrationRecovery['kind'];
}

/**
 * A host's agent restarted (reports/recovery): the steps of its migrations that it was running are failed (a
 * forward step: the move reverts) or sent again (an undo or a clean-up), once per `incarnation`. Returns what it
 * did, per migration.
 */
export async function recoverMigrationsOn(
  dataSource: DataSource,
  hostName: string,
  incarnation: string,
  cut: InterruptedCommand[],
  at: string,
): Promise<RecoveredMigration[]> {
  const commands = new Map(cut.map((c) => [c.migrationId, c.command]));
  const interrupted = await dataSource.transaction(async (m) => {
    const ids = [...commands.keys()].filter((id): id is string => id !== undefined);
    const migs = await lockActiveMigrationsOn(m, hostName, ids);
    const failed: MigrationReport[] = [];
    const done: RecoveredMigration[] = [];
    for (const mig of migs) {
      const recovery = recoverMigration(mig, mig.role);
      // Only the step it awaits, if that is the one cut short (not an earlier step's leftover job).
      if (recovery.kind === 'none' || !mig.pendingOperationId || commands.get(mig.id) !== recovery.command) continue;
      done.push({ migrationId: mig.id, instanceId: mig.instanceId, recovery: recovery.kind });
      const why = `the agent on ${hostName} restarted during ${recovery.command}`;
      if (recovery.kind === 'resend') {
        await recordStep(m, mig.pendingOperationId, 'recover', at, `${why}: sent again`);
        await sendStep(m, mig, mig.pendingOperationId, recovery.command, mig.role, `recover-${incarnation}`);
        continue;
      }
      failed.push({
        v: CONTRACT_VERSION,
        type: 'migration.result',
        operationId: mig.pendingOperationId,
        migrationId: mig.id,
        instanceId: mig.instanceId,
        command: recovery.command,
        powerState: 'NOSTATE',
        at,
        fault: { step: 'recover', message: why, at },
      });
    }
    return { failed, done };
  });
  for (const report of interrupted.failed) await dataSource.transaction((m) => conductReport(m, report));
  return interrupted.done;
}
