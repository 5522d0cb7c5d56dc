import {
  CONTRACT_VERSION,
  computeQueue,
  jobId,
  type ComputeCommand,
  type Fault,
  type InstanceSpec,
  type RequestSpec,
} from '@berth/contracts';
import {
  finishSteps,
  resourcesOf,
  type GroupState,
  type HostCandidate,
  type OperationStep,
  type Resources,
} from '@berth/domain';
import type { Pool } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import {
  drawReservationSlot,
  releaseAllocations,
  type HostLimits,
  claimBuild,
  claimBuildPrepared,
  type BuildClaim,
  type ClaimResult,
  loadGroupState,
  loadHostState,
  loadHostStates,
  reservationSlots,
  INSTANCE_RECORD_SQL,
  type InstanceRecord,
  markInstanceDeleted,
  finishOperation,
  recordStep,
  enqueue,
  one,
} from '@berth/data';
import { specOf } from '../specs/instance-spec';

/** The instance's request as the scheduler first saw it, and where its build failed. */
interface FailedBuildRow extends RequestSpec {
  taskState: string | null;
  hostId: string;
  hostName: string;
  alternates: string[];
}

/** A build that failed on `hostName` and is to be retried on one of `alternates`. */
export interface FailedBuild {
  spec: InstanceSpec;
  hostId: string;
  hostName: string;
  alternates: string[];
  resources: Resources;
  reservationId: string | null;
  serverGroupId: string | null;
  request: RequestSpec;
}

/** The scheduler's view of the database: hosts, groups, reservation slots, and claims. */
export class PlacementStore {
  constructor(
    private readonly dataSource: DataSource,
    readonly limits: HostLimits,
    /** A pool for claims made on their own, as prepared statements (the scheduler's hot path). */
    private readonly claimPool?: Pool,
  ) {}

  /** Every host's state; within a decision, pass its manager so the read uses the decision's connection. */
  hostStates(manager: EntityManager = this.dataSource.manager): Promise<HostCandidate[]> {
    return loadHostStates(manager, this.limits.downAfterSec);
  }

  hostState(id: string, manager: EntityManager = this.dataSource.manager): Promise<HostCandidate | null> {
    return loadHostState(manager, this.limits.downAfterSec, id);
  }

  /** One build claim on its own: a single statement, so a single round trip and no transaction. */
  claimAlone(c: BuildClaim, spec: InstanceSpec): Promise<ClaimResult> {
    return this.claimPool
      ? claimBuildPrepared(this.claimPool, c, spec, this.limits)
      : claimBuild(this.dataSource.manager, c, spec, this.limits);
  }

  /** Runs one placement decision (one request, or one reschedule) in a single transaction. */
  decide<T>(work: (tx: PlacementTx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((m) => work(new PlacementTx(m, this.limits)));
  }
}

/** Thrown to roll a placement transaction back (a request below its minCount). */
export class RollbackPlacement extends Error {}

export class PlacementTx {
  constructor(
    readonly manager: EntityManager,
    private readonly limits: HostLimits,
  ) {}

  /** The group with its members' hosts, locked until this decision ends. */
  group(groupId: string): Promise<GroupState | null> {
    return loadGroupState(this.manager, groupId, true);
  }

  slots(reservationId: string): Promise<Map<string, number>> {
    return reservationSlots(this.manager, reservationId);
  }

  /**
   * Claims a build on a host within this decision's transaction. A reservation draw turns one of the
   * reservation's slots on that host into the instance's allocation instead of claiming new room.
   */
  async claim(c: BuildClaim, spec: InstanceSpec): Promise<ClaimResult> {
    if (!c.reservationId) return claimBuild(this.manager, c, spec, this.limits);
    const waiting = await one<{ id: string }>(
      this.manager,
      `SELECT id FROM instances WHERE id = $1 AND status = 'BUILDING' AND task_state = 'scheduling' FOR UPDATE`,
      [c.instanceId],
    );
    if (!waiting) return 'gone';
    const pinned = await drawReservationSlot(this.manager, c.reservationId, c.instanceId, c.host.id);
    if (!pinned) return 'host-full';
    await this.manager.query(
      `UPDATE instances SET host_id = $2, task_state = 'spawning', alternates = $3, pinned_cpus = $4, updated_at = now()
        WHERE id = $1`,
      [c.instanceId, c.host.id, c.alternates, pinned],
    );
    await recordStep(this.manager, c.operationId, 'schedule', new Date().toISOString(), `host ${c.host.name}`);
    const command: ComputeCommand = {
      v: CONTRACT_VERSION,
      type: 'instance.create',
      operationId: c.operationId,
      instance: { ...spec, limits: { ...spec.limits, pinnedCpus: pinned } },
    };
    await enqueue(this.manager, {
      queue: computeQueue(c.host.name),
      name: command.type,
      jobId: jobId(c.operationId, `create-${c.host.name}`),
      payload: command,
    });
    return 'claimed';
  }

  /**
   * The start of a reschedule: if the instance's build on its host failed and alternates remain,
   * records the failure, releases the claim there and puts the instance back to scheduling, within
   * this transaction (rolled back if no alternate takes it). Null when there is nothing to retry.
   */
  async beginReschedule(instanceId: string, operationId: string, fault: Fault): Promise<FailedBuild | null> {
    const row = await one<FailedBuildRow>(
      this.manager,
      `SELECT i.task_state AS "taskState", i.host_id AS "hostId", h.name AS "hostName", i.alternates, i.kind,
              i.project_id AS "projectId", i.cpu_policy AS "cpuPolicy", i.vcpus, i.ram_mb AS "ramMb", i.disk_gb AS "diskGb",
              (i.throttles->>'pidsLimit')::int AS "pidsLimit", i.zone,
              i.extra_specs AS "extraSpecs", n.vlan, i.image_ref AS "imageRef", i.server_group_id AS "serverGroupId",
              i.reservation_id AS "reservationId"
         FROM instances i JOIN hosts h ON h.id = i.host_id
         JOIN ports p ON p.instance_id = i.id JOIN networks n ON n.id = p.network_id
        WHERE i.id = $1 FOR UPDATE OF i`,
      [instanceId],
    );
    if (!row || row.taskState !== 'spawning' || row.alternates.length === 0) return null;
    await releaseAllocations(this.manager, { instanceId });
    await this.manager.query(
      `UPDATE instances SET host_id = NULL, task_state = 'scheduling', alternates = '{}', pinned_cpus = '{}', updated_at = now(),
              build_failures = build_failures || $2::jsonb
        WHERE id = $1`,
      [instanceId, JSON.stringify([{ host: row.hostName, step: fault.step, message: fault.message, at: fault.at }])],
    );
    // The failed attempt's step ends as failed; the operation goes on with the next host.
    const op = await one<{ steps: OperationStep[] }>(
      this.manager,
      `SELECT steps FROM operations WHERE id = $1 AND status = 'running' FOR UPDATE`,
      [operationId],
    );
    if (op) {
      const steps = finishSteps(op.steps, 'failed', fault.at, fault.step).map((s) =>
        s.status === 'failed' && s.finishedAt === fault.at ? { ...s, detail: `${row.hostName}: ${fault.message}` } : s,
      );
      await this.manager.query('UPDATE operations SET steps = $2, updated_at = now() WHERE id = $1', [
        operationId,
        JSON.stringify(steps),
      ]);
    }
    const record = await one<InstanceRecord>(this.manager, `${INSTANCE_RECORD_SQL} WHERE i.id = $1`, [instanceId]);
    if (!record) throw new Error(`instance ${instanceId} vanished during its reschedule`);
    const { taskState: _, hostId, hostName, alternates, ...request } = row;
    return {
      spec: specOf(record),
      hostId,
      hostName,
      alternates,
      resources: resourcesOf(request),
      reservationId: request.reservationId,
      serverGroupId: request.serverGroupId,
      // A rebuild claims afresh in the common pool: the reservation's slot went with the failed claim.
      request: { ...request, reservationId: null },
    };
  }

  /** No host can take the instance: ERROR with the explanation; its operation fails. */
  async noValidHost(instanceId: string, operationId: string, message: string): Promise<void> {
    const fault: Fault = { step: 'schedule', message, at: new Date().toISOString() };
    await this.manager.query(
      `UPDATE instances SET status = 'ERROR', task_state = NULL, fault = $2, updated_at = now()
        WHERE id = $1 AND status = 'BUILDING' AND task_state = 'scheduling'`,
      [instanceId, JSON.stringify(fault)],
    );
    await finishOperation(this.manager, operationId, fault);
  }

  /** An instance beyond what fitted of a best-effort request (maxCount): it is not created after all. */
  async dropUnplaced(instanceId: string, operationId: string, message: string): Promise<void> {
    const dropped = await one<{ id: string }>(
      this.manager,
      `SELECT id FROM instances WHERE id = $1 AND status = 'BUILDING' AND task_state = 'scheduling' FOR UPDATE`,
      [instanceId],
    );
    if (!dropped) return;
    await markInstanceDeleted(this.manager, instanceId, operationId);
    await finishOperation(this.manager, operationId, { step: 'schedule', message, at: new Date().toISOString() });
  }
}
