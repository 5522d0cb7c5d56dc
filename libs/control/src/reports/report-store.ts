import {
  CONTRACT_VERSION,
  computeQueue,
  jobId,
  type AgentReport,
  type ComputeCommand,
  type Fault,
  type HostFacts,
  type PowerState,
} from '@berth/contracts';
import {
  parseCpuList,
  settle,
  syncPowerState,
  type InstanceStatus,
  type OperationStep,
  type PowerSync,
  type RestartPolicy,
} from '@berth/domain';
import type { DataSource, EntityManager } from 'typeorm';
import {
  releaseAllocations,
  shrinkAllocation,
  type PendingResize,
  markInstanceDeleted,
  INSTANCE_RECORD_SQL,
  type InstanceRecord,
  finishOperation,
  insertOperation,
  recordStep,
  enqueue,
  one,
} from '@berth/data';
import { specOf } from '../specs/instance-spec';

export interface AllocationRatios {
  cpu: number;
  ram: number;
  disk: number;
}

/** One instance the power-state sync moved. */
export interface PowerSyncChange {
  instanceId: string;
  from: { status: InstanceStatus; powerState: PowerState };
  to: PowerSync;
  /** The start its restart policy asked for (an instance found stopped outside Berth), under this operation. */
  restartOperationId?: string;
}

type Report<T extends AgentReport['type']> = Extract<AgentReport, { type: T }>;

/**
 * Applies what agents report (the conductor's role: agents never open the database). Reports are
 * delivered at least once, so each is applied with a compare-and-swap and a repeat changes nothing.
 */
export class ReportStore {
  constructor(
    private readonly dataSource: DataSource,
    /** Ratios given to a host when it first registers; operators change them per host later. */
    private readonly defaultRatios: AllocationRatios,
  ) {}

  async heartbeat(host: HostFacts): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO hosts (name, address, drivers, vcpus, ram_mb, disk_gb, cpu_ratio, ram_ratio, disk_ratio,
                          agent_version, vlan_ranges, cached_images, pcpus, cpu_shared_set, cpu_dedicated_set, lxcfs,
                          unavailable_drivers, confinement, pid_max, pids, last_heartbeat_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, now())
       ON CONFLICT (name) DO UPDATE SET address = EXCLUDED.address, drivers = EXCLUDED.drivers,
         vcpus = EXCLUDED.vcpus, ram_mb = EXCLUDED.ram_mb, disk_gb = EXCLUDED.disk_gb,
         agent_version = EXCLUDED.agent_version, vlan_ranges = EXCLUDED.vlan_ranges,
         cached_images = EXCLUDED.cached_images, pcpus = EXCLUDED.pcpus, cpu_shared_set = EXCLUDED.cpu_shared_set,
         cpu_dedicated_set = EXCLUDED.cpu_dedicated_set, lxcfs = EXCLUDED.lxcfs,
         unavailable_drivers = EXCLUDED.unavailable_drivers, confinement = EXCLUDED.confinement,
         pid_max = EXCLUDED.pid_max, pids = EXCLUDED.pids, last_heartbeat_at = now()`,
      [
        host.name,
        host.address,
        host.drivers,
        host.vcpus,
        host.ramMb,
        host.diskGb,
        this.defaultRatios.cpu,
        this.defaultRatios.ram,
        this.defaultRatios.disk,
        host.agentVersion,
        host.vlanRanges,
        host.cachedImages,
        host.pcpus,
        host.cpuSharedSet,
        parseCpuList(host.cpuDedicatedSet) ?? [],
        host.lxcfs,
        host.unavailable ?? [],
        host.confinement ?? [],
        host.pidMax ?? null,
        host.pids ?? null,
      ],
    );
  }

  /**
   * A host's periodic power-state sync. Only idle instances are judged (no task in flight, not
   * reported busy), and only of the kinds whose hypervisor answered; each row changes under its lock.
   */
  async powerStates(report: Report<'host.power-states'>): Promise<PowerSyncChange[]> {
    const reported = new Map(report.instances.map((i) => [i.instanceId, i.powerState]));
    return this.dataSource.transaction(async (m) => {
      const rows = await m.query<
        Array<{ id: string; status: InstanceStatus; powerState: PowerState; restartPolicy: RestartPolicy }>
      >(
        `SELECT i.id, i.status, i.power_state AS "powerState", i.restart_policy AS "restartPolicy"
           FROM instances i JOIN hosts h ON h.id = i.host_id
          WHERE h.name = $1 AND i.task_state IS NULL AND i.kind = ANY ($2)
            AND i.status IN ('ACTIVE', 'SHUTOFF', 'ERROR') AND NOT (i.id = ANY ($3::uuid[]))
          ORDER BY i.id
            FOR UPDATE OF i`,
        [report.host, report.kinds, report.busy],
      );
      const changes: PowerSyncChange[] = [];
      for (const row of rows) {
        const next = syncPowerState(row, reported.get(row.id));
        if (!next) continue;
        await m.query(
          `UPDATE instances SET status = $2, power_state = $3, updated_at = now(),
                  fault = CASE WHEN $4::jsonb IS NULL THEN fault ELSE $4::jsonb END
            WHERE id = $1`,
          [row.id, next.status, next.powerState, next.fault ? JSON.stringify({ ...next.fault, at: report.at }) : null],
        );
        const stoppedBehindOurBack = row.status === 'ACTIVE' && next.status === 'SHUTOFF';
        const restartOperationId =
          stoppedBehindOurBack && row.restartPolicy === 'always' ? await this.restart(m, row.id, report.at) : undefined;
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
   * Starts an instance again by its restart policy, in the transaction that recorded it SHUTOFF: an
   * operation of no user (`instance.start`, its first step `sync`) and the start command to its host.
   */
  private async restart(m: EntityManager, instanceId: string, at: string): Promise<string> {
    const [instance] = await m.query<InstanceRecord[]>(`${INSTANCE_RECORD_SQL} WHERE i.id = $1`, [instanceId]);
    if (!instance?.hostName) throw new Error(`instance ${instanceId} has no host to restart on`);
    const operationId = await insertOperation(
      m,
      { projectId: instance.projectId, userId: null, requestId: null },
      { action: 'instance.start', targetType: 'instance', targetId: instanceId },
    );
    await recordStep(m, operationId, 'sync', at, 'found stopped outside Berth; started again by its restart policy');
    await m.query(`UPDATE instances SET task_state = 'powering-on', updated_at = now() WHERE id = $1`, [instanceId]);
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

  async step(report: Report<'operation.step'>): Promise<void> {
    await this.dataSource.transaction((m) => recordStep(m, report.operationId, report.step, report.at, report.detail));
  }

  /**
   * A host finished a command. The instance moves only if it still holds the task this command ran
   * under (a delete may have overtaken a build); the operation is closed either way.
   */
  async result(report: Report<'instance.result'>): Promise<void> {
    const outcome = settle(report.command, report.fault === undefined, report.powerState);
    await this.dataSource.transaction(async (m) => {
      const instance = await one<{ taskState: string | null }>(
        m,
        'SELECT task_state AS "taskState" FROM instances WHERE id = $1 FOR UPDATE',
        [report.instanceId],
      );
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
          await m.query(
            `UPDATE instances SET status = $2, task_state = NULL, power_state = $3, updated_at = now(),
                    fault = CASE WHEN $2 = 'ERROR' THEN $4::jsonb END,
                    host_id = CASE WHEN $5 THEN NULL ELSE host_id END,
                    pinned_cpus = CASE WHEN $5 THEN '{}' ELSE pinned_cpus END,
                    launched_at = CASE WHEN $6 THEN now() ELSE launched_at END,
                    applied_limits = CASE WHEN $7 THEN $8::jsonb ELSE applied_limits END
              WHERE id = $1`,
            [
              report.instanceId,
              outcome.status,
              outcome.powerState,
              fault ? JSON.stringify(fault) : null,
              failedBuild,
              report.command === 'instance.create' && !failedBuild,
              report.applied !== undefined,
              report.applied ? JSON.stringify(report.applied) : null,
            ],
          );
        }
      }
      await finishOperation(m, report.operationId, report.fault ?? null);
    });
  }

  /**
   * A host finished pulling an image for a pre-warm: its step ends, the host now caches the image,
   * and the operation finishes once every host has answered.
   */
  async imageResult(report: Report<'image.result'>): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const op = await one<{ steps: OperationStep[] }>(
        m,
        `SELECT steps FROM operations WHERE id = $1 AND status = 'running' FOR UPDATE`,
        [report.operationId],
      );
      if (!op) return;
      const name = `pull ${report.host}`;
      const steps = op.steps.map((s) =>
        s.name === name && (s.status === 'pending' || s.status === 'running')
          ? {
              ...s,
              status: report.error ? ('failed' as const) : ('succeeded' as const),
              finishedAt: report.at,
              ...(report.error ? { detail: report.error } : {}),
            }
          : s,
      );
      if (!report.error) {
        await m.query(
          `UPDATE hosts SET cached_images = array_append(cached_images, $2) WHERE name = $1 AND NOT ($2 = ANY (cached_images))`,
          [report.host, report.imageRef],
        );
      }
      const open = steps.some((s) => s.status === 'pending' || s.status === 'running');
      const failed = steps.filter((s) => s.status === 'failed');
      const fault = failed.length
        ? { step: 'pull', message: failed.map((s) => `${s.name}: ${s.detail ?? 'failed'}`).join('; '), at: report.at }
        : null;
      await m.query(
        `UPDATE operations SET steps = $2, updated_at = now(),
                status = CASE WHEN $3 THEN status ELSE $4 END,
                fault = CASE WHEN $3 THEN fault ELSE $5::jsonb END,
                finished_at = CASE WHEN $3 THEN finished_at ELSE now() END
          WHERE id = $1`,
        [
          report.operationId,
          JSON.stringify(steps),
          open,
          fault ? 'failed' : 'succeeded',
          fault ? JSON.stringify(fault) : null,
        ],
      );
    });
  }
}

/**
 * The end of a live resize: on success the instance takes its new size and limits and gives back
 * what it no longer needs (the shrink, and CPUs it no longer pins); on failure its host restored the
 * old limits, so the growth claimed for the change is given back.
 */
async function finishResize(m: EntityManager, instanceId: string, succeeded: boolean): Promise<void> {
  const row = await one<{ hostId: string | null; pending: PendingResize | null }>(
    m,
    'SELECT host_id AS "hostId", pending_resize AS pending FROM instances WHERE id = $1',
    [instanceId],
  );
  if (!row?.pending || !row.hostId) return;
  const { to, grow, shrink, claimedCpus, releasedCpus } = row.pending;
  if (!succeeded) {
    await shrinkAllocation(m, instanceId, row.hostId, grow, claimedCpus);
    await m.query('UPDATE instances SET pending_resize = NULL WHERE id = $1', [instanceId]);
    return;
  }
  await shrinkAllocation(m, instanceId, row.hostId, shrink, releasedCpus);
  await m.query(
    `UPDATE instances SET flavor_id = (SELECT id FROM flavors WHERE id = $2), flavor_name = $3, vcpus = $4, ram_mb = $5, disk_gb = $6, cpu_policy = $7,
            throttles = $8, limit_bounds = $9, pinned_cpus = $10, pending_resize = NULL
      WHERE id = $1`,
    [
      instanceId,
      to.flavorId,
      to.flavorName,
      to.vcpus,
      to.ramMb,
      to.diskGb,
      to.cpuPolicy,
      JSON.stringify(to.throttles),
      JSON.stringify(to.limitBounds),
      to.pinnedCpus,
    ],
  );
}

/** The fault of a build that failed on every host it was tried on: each host's failure, in order. */
async function withEarlierFailures(m: EntityManager, instanceId: string, last: Fault): Promise<Fault> {
  const row = await one<{ failures: Array<{ host: string; step: string; message: string }>; host: string | null }>(
    m,
    `SELECT i.build_failures AS failures, h.name AS host FROM instances i LEFT JOIN hosts h ON h.id = i.host_id WHERE i.id = $1`,
    [instanceId],
  );
  if (!row || row.failures.length === 0) return last;
  const all = [...row.failures, { host: row.host ?? 'its host', step: last.step, message: last.message }];
  return {
    step: last.step,
    message: `the build failed on every host tried: ${all.map((f) => `${f.host}: ${f.step}: ${f.message}`).join('; ')}`,
    at: last.at,
  };
}
