import type { AppliedLimits, Fault, PowerState } from '@berth/contracts';
import type { InstanceStatus, RestartPolicy, TaskState } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import type { PendingResize } from '../entities/instance.entity';
import { one, rows } from '../sql';
import { INSTANCE_RECORD_SQL, type InstanceRecord } from './instance-record';

/*
 * The rows an instance's tasks change as hosts report them: builds and their retries, results, live resizes, the
 * power sync, and a restarted agent's recovery.
 */

/** An idle instance the power sync may judge. */
export interface IdleInstance {
  id: string;
  status: InstanceStatus;
  powerState: PowerState;
  restartPolicy: RestartPolicy;
}

/**
 * The host's idle instances of these kinds (no task in flight, not reported busy, in a settled status), locked in
 * id order.
 */
export function lockIdleInstancesOn(
  m: EntityManager,
  hostName: string,
  kinds: readonly string[],
  busy: readonly string[],
): Promise<IdleInstance[]> {
  return rows<IdleInstance>(
    m,
    `SELECT i.id, i.status, i.power_state AS "powerState", i.restart_policy AS "restartPolicy"
       FROM instances i JOIN hosts h ON h.id = i.host_id
      WHERE h.name = $1 AND i.task_state IS NULL AND i.kind = ANY ($2)
        AND i.status IN ('ACTIVE', 'SHUTOFF', 'ERROR') AND NOT (i.id = ANY ($3::uuid[]))
      ORDER BY i.id
        FOR UPDATE OF i`,
    [hostName, kinds, busy],
  );
}

/** What the power sync found: the status and power state, and a fault when it judged the instance failed. */
export async function setPowerSynced(
  m: EntityManager,
  id: string,
  synced: { status: InstanceStatus; powerState: PowerState; fault: Fault | null },
): Promise<void> {
  await m.query(
    `UPDATE instances SET status = $2, power_state = $3, updated_at = now(),
            fault = CASE WHEN $4::jsonb IS NULL THEN fault ELSE $4::jsonb END
      WHERE id = $1`,
    [id, synced.status, synced.powerState, synced.fault ? JSON.stringify(synced.fault) : null],
  );
}

/** The task the instance holds, its row locked; null when the instance does not exist. */
export function lockTask(m: EntityManager, id: string): Promise<{ taskState: TaskState | null } | null> {
  return one<{ taskState: TaskState | null }>(
    m,
    'SELECT task_state AS "taskState" FROM instances WHERE id = $1 FOR UPDATE',
    [id],
  );
}

/** The end of a task a host ran: the instance's status and power, and for a build where it landed. */
export interface TaskEnd {
  status: InstanceStatus;
  powerState: PowerState;
  /** Kept only in ERROR. */
  fault: Fault | null;
  /** A failed build leaves its host (and its pinned CPUs). */
  leftHost: boolean;
  /** A build that succeeded: the instance launched now. */
  launched: boolean;
  /** undefined: the applied limits stay as they were. */
  applied: AppliedLimits | null | undefined;
}

export async function endTask(m: EntityManager, id: string, end: TaskEnd): Promise<void> {
  await m.query(
    `UPDATE instances SET status = $2, task_state = NULL, power_state = $3, updated_at = now(),
            fault = CASE WHEN $2 = 'ERROR' THEN $4::jsonb END,
            host_id = CASE WHEN $5 THEN NULL ELSE host_id END,
            pinned_cpus = CASE WHEN $5 THEN '{}' ELSE pinned_cpus END,
            launched_at = CASE WHEN $6 THEN now() ELSE launched_at END,
            applied_limits = CASE WHEN $7 THEN $8::jsonb ELSE applied_limits END
      WHERE id = $1`,
    [
      id,
      end.status,
      end.powerState,
      end.fault ? JSON.stringify(end.fault) : null,
      end.leftHost,
      end.launched,
      end.applied !== undefined,
      end.applied ? JSON.stringify(end.applied) : null,
    ],
  );
}

/** The instance's host and the live resize it waits for, if any. */
export function pendingResizeOf(
  m: EntityManager,
  id: string,
): Promise<{ hostId: string | null; pending: PendingResize | null } | null> {
  return one(m, 'SELECT host_id AS "hostId", pending_resize AS pending FROM instances WHERE id = $1', [id]);
}

/** A live resize ended: with `to`, the instance takes that size and those CPUs; without, it keeps what it had. */
export async function endResize(m: EntityManager, id: string, to: PendingResize['to'] | null): Promise<void> {
  if (!to) {
    await m.query('UPDATE instances SET pending_resize = NULL WHERE id = $1', [id]);
    return;
  }
  await m.query(
    `UPDATE instances SET flavor_id = (SELECT id FROM flavors WHERE id = $2), flavor_name = $3, vcpus = $4, ram_mb = $5,
            disk_gb = $6, cpu_policy = $7, throttles = $8, limit_bounds = $9, pinned_cpus = $10, pending_resize = NULL
      WHERE id = $1`,
    [
      id,
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

/** Where the instance's build failed before (each host tried), and the host it is on now. */
export function buildFailuresOf(
  m: EntityManager,
  id: string,
): Promise<{ failures: Array<{ host: string; step: string; message: string }>; host: string | null } | null> {
  return one(
    m,
    `SELECT i.build_failures AS failures, h.name AS host FROM instances i LEFT JOIN hosts h ON h.id = i.host_id WHERE i.id = $1`,
    [id],
  );
}

/**
 * A build never placed (task scheduling) fails: ERROR, saying why; nothing is held on a host, and the volumes it
 * was to be built with are available again.
 */
export async function failUnplaced(m: EntityManager, id: string, fault: Fault): Promise<void> {
  await m.query(
    `WITH failed AS (
       UPDATE instances SET status = 'ERROR', task_state = NULL, fault = $2, updated_at = now()
        WHERE id = $1 AND status = 'BUILDING' AND task_state = 'scheduling' RETURNING id)
     UPDATE volumes SET status = 'available', instance_id = NULL, attach_path = NULL, serial = NULL, updated_at = now()
      WHERE instance_id IN (SELECT id FROM failed) AND status = 'attaching'`,
    [id, JSON.stringify(fault)],
  );
}

/** Whether the instance still waits for a host (BUILDING/scheduling), its row locked. */
export async function lockUnplaced(m: EntityManager, id: string): Promise<boolean> {
  const waiting = await one<{ id: string }>(
    m,
    `SELECT id FROM instances WHERE id = $1 AND status = 'BUILDING' AND task_state = 'scheduling' FOR UPDATE`,
    [id],
  );
  return waiting !== null;
}

/** Claimed on a host: the build goes there (task spawning), with the hosts to try next if it fails. */
export async function setSpawning(
  m: EntityManager,
  id: string,
  on: { hostId: string; alternates: string[]; pinnedCpus: number[] },
): Promise<void> {
  await m.query(
    `UPDATE instances SET host_id = $2, task_state = 'spawning', alternates = $3, pinned_cpus = $4, updated_at = now()
      WHERE id = $1`,
    [id, on.hostId, on.alternates, on.pinnedCpus],
  );
}

/** A build in progress on a host, its row locked: where, and the hosts left to try. */
export function lockBuild(
  m: EntityManager,
  id: string,
): Promise<{ taskState: TaskState | null; hostId: string; hostName: string; alternates: string[] } | null> {
  return one(
    m,
    `SELECT i.task_state AS "taskState", i.host_id AS "hostId", h.name AS "hostName", i.alternates
       FROM instances i JOIN hosts h ON h.id = i.host_id
      WHERE i.id = $1 FOR UPDATE OF i`,
    [id],
  );
}

/** A build that failed on a host goes back to scheduling, the failure kept for the fault of the last try. */
export async function backToScheduling(
  m: EntityManager,
  id: string,
  failure: { host: string; step: string; message: string; at: string },
): Promise<void> {
  await m.query(
    `UPDATE instances SET host_id = NULL, task_state = 'scheduling', alternates = '{}', pinned_cpus = '{}', updated_at = now(),
            build_failures = build_failures || $2::jsonb
      WHERE id = $1`,
    [id, JSON.stringify([failure])],
  );
}

/** The live instances on the host among `ids` that hold a task, oldest first, locked. */
export function lockBusyInstancesOn(
  m: EntityManager,
  hostId: string,
  ids: readonly string[],
): Promise<InstanceRecord[]> {
  return rows<InstanceRecord>(
    m,
    `${INSTANCE_RECORD_SQL} WHERE i.host_id = $1 AND i.id = ANY ($2::uuid[]) AND i.task_state IS NOT NULL
        AND i.deleted_at IS NULL ORDER BY i.created_at FOR UPDATE OF i`,
    [hostId, ids],
  );
}

/** The instance's task and power state, or null when it does not exist. */
export function taskOf(
  m: EntityManager,
  id: string,
): Promise<{ taskState: TaskState | null; powerState: PowerState } | null> {
  return one(m, `SELECT task_state AS "taskState", power_state AS "powerState" FROM instances WHERE id = $1`, [id]);
}
