import { CONTRACT_VERSION, type Fault } from '@berth/contracts';
import { recoverTask, type TaskState } from '@berth/domain';
import { failUnplaced, finishOperation, migrationAwaiting, staleOperations, taskOf } from '@berth/data';
import type { DataSource } from 'typeorm';
import type { MigrationWorkflow } from '../moves/migration-workflow';
import type { ReportWorkflow } from '../reports/report-workflow';

/** One operation the watchdog gave up on, and what it rolled back. */
export interface StuckTask {
  operationId: string;
  action: string;
  instanceId: string | null;
  taskState: TaskState | null;
  idleSec: number;
  step: string | null;
}

/**
 * The stuck-task watchdog: an operation with no progress (no step started, no report) for
 * `timeoutSec` is failed with a fault naming the step it hung in, and its task is rolled back the
 * way a failure reported by its host would be (ReportWorkflow.result, MigrationWorkflow.apply), so that
 * no instance stays in a task state for ever. A host that reports later finds its task gone and
 * changes nothing; what it built then is a stray, removed after its grace.
 */
export class TaskWatchdog {
  constructor(
    private readonly dataSource: DataSource,
    private readonly reports: ReportWorkflow,
    private readonly migrations: MigrationWorkflow,
  ) {}

  async sweep(timeoutSec: number): Promise<StuckTask[]> {
    const stuck = await staleOperations(this.dataSource.manager, timeoutSec);
    const given: StuckTask[] = [];
    for (const op of stuck) {
      const step = [...op.steps].reverse().find((s) => s.status === 'running')?.name ?? null;
      const at = new Date().toISOString();
      const fault: Fault = {
        step: 'watchdog',
        message: `no progress for ${op.idleSec} s${step ? ` in step ${step}` : ''}: the task was given up and rolled back`,
        at,
      };
      const instance =
        op.targetType === 'instance' && op.targetId ? await taskOf(this.dataSource.manager, op.targetId) : null;
      const migration = await migrationAwaiting(this.dataSource.manager, op.id);
      const recovery = instance?.taskState ? recoverTask(instance.taskState) : null;
      if (migration) {
        await this.migrations.apply({
          v: CONTRACT_VERSION,
          type: 'migration.result',
          operationId: op.id,
          migrationId: migration.id,
          instanceId: migration.instanceId,
          command: migration.command,
          powerState: 'NOSTATE',
          at,
          fault,
        });
      } else if (instance && op.targetId && recovery?.kind === 'resend') {
        await this.reports.result({
          v: CONTRACT_VERSION,
          type: 'instance.result',
          operationId: op.id,
          instanceId: op.targetId,
          command: recovery.command,
          powerState: instance.powerState,
          at,
          fault,
        });
      } else if (instance?.taskState === 'scheduling' && op.targetId) {
        // Never placed: nothing is held on a host.
        await failUnplaced(this.dataSource.manager, op.targetId, fault);
      }
      // Whatever the roll-back did, the operation ends (a no-op if it already did).
      await this.dataSource.transaction((m) => finishOperation(m, op.id, fault));
      given.push({
        operationId: op.id,
        action: op.action,
        instanceId: op.targetType === 'instance' ? op.targetId : null,
        taskState: instance?.taskState ?? null,
        idleSec: op.idleSec,
        step,
      });
    }
    return given;
  }
}
