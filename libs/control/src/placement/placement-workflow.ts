import {
  CONTRACT_VERSION,
  computeQueue,
  jobId,
  type ComputeCommand,
  type Fault,
  type InstanceSpec,
  type RequestSpec,
} from '@berth/contracts';
import { resourcesOf, type GroupState, type HostCandidate, type Resources } from '@berth/domain';
import {
  backToScheduling,
  claimBuild,
  claimBuildPrepared,
  drawReservationSlot,
  enqueue,
  failRunningStep,
  failUnplaced,
  finishOperation,
  instanceRecord,
  loadGroupState,
  loadHostState,
  loadHostStates,
  lockBuild,
  lockUnplaced,
  markInstanceDeleted,
  recordStep,
  releaseAllocations,
  reservationSlots,
  setSpawning,
  type BuildClaim,
  type ClaimResult,
  type HostLimits,
} from '@berth/data';
import type { Pool } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { requestSpecOf, specOf } from '../specs/instance-spec';

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
export class PlacementWorkflow {
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
    if (!(await lockUnplaced(this.manager, c.instanceId))) return 'gone';
    const pinned = await drawReservationSlot(this.manager, c.reservationId, c.instanceId, c.host.id);
    if (!pinned) return 'host-full';
    await setSpawning(this.manager, c.instanceId, { hostId: c.host.id, alternates: c.alternates, pinnedCpus: pinned });
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
    const build = await lockBuild(this.manager, instanceId);
    if (!build || build.taskState !== 'spawning' || build.alternates.length === 0) return null;
    await releaseAllocations(this.manager, { instanceId });
    const { hostId, hostName, alternates } = build;
    await backToScheduling(this.manager, instanceId, {
      host: hostName,
      step: fault.step,
      message: fault.message,
      at: fault.at,
    });
    // The failed attempt's step ends as failed; the operation goes on with the next host.
    await failRunningStep(this.manager, operationId, fault, hostName);
    const record = await instanceRecord(this.manager, instanceId);
    if (!record) throw new Error(`instance ${instanceId} vanished during its reschedule`);
    // A rebuild claims afresh in the common pool: the reservation's slot went with the failed claim.
    const request = requestSpecOf(record, { reservation: 'none' });
    return {
      spec: specOf(record),
      hostId,
      hostName,
      alternates,
      resources: resourcesOf(request),
      reservationId: record.reservationId,
      serverGroupId: record.serverGroupId,
      request,
    };
  }

  /** No host can take the instance: ERROR with the explanation and its main reason; its operation fails. */
  async noValidHost(instanceId: string, operationId: string, message: string, reason: string): Promise<void> {
    const fault: Fault = { step: 'schedule', message, reason, at: new Date().toISOString() };
    await failUnplaced(this.manager, instanceId, fault);
    await finishOperation(this.manager, operationId, fault);
  }

  /** An instance beyond what fitted of a best-effort request (maxCount): it is not created after all. */
  async dropUnplaced(instanceId: string, operationId: string, message: string): Promise<void> {
    if (!(await lockUnplaced(this.manager, instanceId))) return;
    await markInstanceDeleted(this.manager, instanceId, operationId);
    await finishOperation(this.manager, operationId, { step: 'schedule', message, at: new Date().toISOString() });
  }
}
