import {
  CONTRACT_VERSION,
  computeQueue,
  jobId,
  type AgentReport,
  type ComputeCommand,
  type ComputeCommandType,
} from '@berth/contracts';
import { recoverTask, type TaskState } from '@berth/domain';
import type { DataSource, EntityManager } from 'typeorm';
import {
  enqueue,
  hostIdByName,
  insertOperation,
  reconcileHostVolumes,
  lockBusyInstancesOn,
  newIncarnation,
  recordStep,
  runningOperationOf,
  type InstanceRecord,
} from '@berth/data';
import { limitsCommandOf, specOf } from '../specs/instance-spec';
import type { MigrationWorkflow } from '../moves/migration-workflow';

type HostStarted = Extract<AgentReport, { type: 'host.started' }>;

/** One task a restarted host had left, and what became of it. */
export interface Recovered {
  instanceId: string;
  taskState: TaskState;
  /** The command sent again, or the migration's recovery. */
  action: ComputeCommandType | 'migration-failed' | 'migration-resent';
}

/**
 * A host's agent started: the tasks its previous agent left unfinished are recovered from the
 * records (recoverTask, recoverMigration), once per agent incarnation, so that a repeated report
 * changes nothing. Each command goes out through the outbox under the task's own operation.
 */
export class RecoveryWorkflow {
  constructor(
    private readonly dataSource: DataSource,
    private readonly migrations: MigrationWorkflow,
  ) {}

  async hostStarted(report: HostStarted): Promise<Recovered[]> {
    const recovered = await this.dataSource.transaction(async (m) => {
      const hostId = await newIncarnation(m, report.host, report.incarnation);
      if (!hostId) return null;
      const cut = new Map(
        report.interrupted.filter((c) => !c.migrationId).map((c) => [c.instanceId, c.command] as const),
      );
      const busy = await lockBusyInstancesOn(m, hostId, [...cut.keys()]);
      const done: Recovered[] = [];
      for (const instance of busy) {
        const taskState = instance.taskState as TaskState;
        const recovery = recoverTask(taskState);
        // The command cut short must be the one the task runs (a delete may have overtaken a build).
        if (recovery.kind !== 'resend' || recovery.command !== cut.get(instance.id)) continue;
        const operationId = await this.operationOf(m, instance);
        await recordStep(m, operationId, 'recover', report.at, `the agent on ${report.host} restarted: sent again`);
        const command: ComputeCommand =
          recovery.command === 'instance.set-limits' && instance.pendingResize
            ? limitsCommandOf(instance, instance.pendingResize.to, operationId)
            : {
                v: CONTRACT_VERSION,
                type: recovery.command,
                operationId,
                instance: specOf(instance),
                ...(recovery.recovery ? { recovery: true } : {}),
              };
        await enqueue(m, {
          queue: computeQueue(report.host),
          name: command.type,
          jobId: jobId(operationId, `recover-${report.incarnation}`),
          payload: command,
        });
        done.push({ instanceId: instance.id, taskState, action: recovery.command });
      }
      return done;
    });
    if (recovered === null) return [];
    const migrations = await this.migrations.recoverHost(
      report.host,
      report.incarnation,
      report.interrupted.filter((c) => c.migrationId !== undefined),
      report.at,
    );
    return [
      ...recovered,
      ...migrations.map((r) => ({
        instanceId: r.instanceId,
        taskState: 'migrating' as const,
        action: r.recovery === 'fail' ? ('migration-failed' as const) : ('migration-resent' as const),
      })),
    ];
  }

  /**
   * The volumes the restarted host holds against its records (reconcileHostVolumes): those whose data is gone are
   * `error`, and what no record names is listed as the host's strays, never removed. Null for an agent that did not
   * say what it holds.
   */
  volumesOnStart(report: HostStarted): Promise<{ missing: string[]; strays: string[] } | null> {
    const held = report.volumes;
    if (!held) return Promise.resolve(null);
    return this.dataSource.transaction(async (m) => {
      const host = await hostIdByName(m, report.host);
      return host ? reconcileHostVolumes(m, host.id, held, report.at) : null;
    });
  }

  /** The operation that runs the instance's task: its newest running one (one is opened if none runs). */
  private async operationOf(m: EntityManager, instance: InstanceRecord): Promise<string> {
    const running = await runningOperationOf(m, instance.id);
    if (running) return running;
    return insertOperation(
      m,
      { projectId: instance.projectId, userId: null, requestId: null },
      { action: `instance.recover`, targetType: 'instance', targetId: instance.id },
    );
  }
}
