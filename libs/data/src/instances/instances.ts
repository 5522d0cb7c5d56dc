import type { AddressPair, AppliedLimits, Fault, InstanceKind, PowerState, Throttles, VmBoot } from '@berth/contracts';
import type { InstanceStatus, RestartPolicy, TaskState } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import type { FlavorSpec } from '../entities/catalog.entity';
import type { PendingResize } from '../entities/instance.entity';
import type { FlavorSize } from '../moves/moves';
import { one, rows } from '../sql';
import { INSTANCE_RECORD_SQL, type InstanceRecord } from './instance-record';

/**
 * The rows of instances: reads of the record (instance-record.ts) and every change of an instance's row. The
 * workflows of @berth/control decide which change to make; each is one statement here.
 */

/** Locks the instance's row until the transaction ends (every change of an instance takes it first). */
export async function lockInstance(m: EntityManager, id: string): Promise<void> {
  await m.query('SELECT 1 FROM instances WHERE id = $1 FOR UPDATE', [id]);
}

/** A live instance, or null if it does not exist, is deleted, or lies outside `projectId` (null: any). */
export function liveInstance(m: EntityManager, id: string, projectId: string | null): Promise<InstanceRecord | null> {
  return one<InstanceRecord>(
    m,
    `${INSTANCE_RECORD_SQL} WHERE i.id = $1 AND i.deleted_at IS NULL AND ($2::uuid IS NULL OR i.project_id = $2)`,
    [id, projectId],
  );
}

/** The instance whatever its state (a deleted one too). */
export function instanceRecord(m: EntityManager, id: string): Promise<InstanceRecord | null> {
  return one<InstanceRecord>(m, `${INSTANCE_RECORD_SQL} WHERE i.id = $1`, [id]);
}

export function instanceRecords(m: EntityManager, ids: readonly string[]): Promise<InstanceRecord[]> {
  return rows<InstanceRecord>(m, `${INSTANCE_RECORD_SQL} WHERE i.id = ANY ($1::uuid[])`, [ids]);
}

export interface Page {
  limit: number;
  /** The last id of the previous page. */
  afterId?: string | undefined;
}

/** Live instances in creation order, keyset-paginated. */
export function liveInstances(m: EntityManager, projectId: string | null, page: Page): Promise<InstanceRecord[]> {
  return rows<InstanceRecord>(
    m,
    `${INSTANCE_RECORD_SQL}
      WHERE i.deleted_at IS NULL AND ($1::uuid IS NULL OR i.project_id = $1)
        AND ($2::uuid IS NULL OR (i.created_at, i.id) > (SELECT created_at, id FROM instances WHERE id = $2))
      ORDER BY i.created_at, i.id LIMIT $3`,
    [projectId, page.afterId ?? null, page.limit],
  );
}

/** The live instances on a host, oldest first, locked. */
export function lockInstancesOnHost(m: EntityManager, hostId: string): Promise<InstanceRecord[]> {
  return rows<InstanceRecord>(
    m,
    `${INSTANCE_RECORD_SQL} WHERE i.host_id = $1 AND i.status <> 'DELETED' ORDER BY i.created_at FOR UPDATE OF i`,
    [hostId],
  );
}

export async function setTaskState(m: EntityManager, id: string, taskState: TaskState | null): Promise<void> {
  await m.query('UPDATE instances SET task_state = $2, updated_at = now() WHERE id = $1', [id, taskState]);
}

/** A move begins: MIGRATING until it lands or is undone. */
export async function setMigrating(m: EntityManager, id: string): Promise<void> {
  await m.query(
    `UPDATE instances SET status = 'MIGRATING', task_state = 'migrating', updated_at = now() WHERE id = $1`,
    [id],
  );
}

/** An idle instance after a task ended: its status follows the power state its hypervisor last reported. */
export async function settleByPower(m: EntityManager, id: string): Promise<void> {
  await m.query(
    `UPDATE instances SET status = CASE WHEN power_state = 'RUNNING' THEN 'ACTIVE' ELSE 'SHUTOFF' END,
            task_state = NULL, updated_at = now()
      WHERE id = $1`,
    [id],
  );
}

/** Where a host reported the instance: on that host, on those CPUs, with what it read back (a move's landing). */
export interface Placed {
  hostId: string | null;
  pinnedCpus: number[];
  powerState: PowerState;
  status: InstanceStatus;
  taskState: TaskState | null;
  /** undefined: the applied limits stay as they were; null: none were read back. */
  applied: AppliedLimits | null | undefined;
}

export async function setPlaced(m: EntityManager, id: string, p: Placed): Promise<void> {
  await m.query(
    `UPDATE instances SET status = $2, task_state = $3, host_id = $4, pinned_cpus = $5, power_state = $6,
            applied_limits = CASE WHEN $7 THEN $8::jsonb ELSE applied_limits END, fault = NULL, updated_at = now()
      WHERE id = $1`,
    [
      id,
      p.status,
      p.taskState,
      p.hostId,
      p.pinnedCpus,
      p.powerState,
      p.applied !== undefined,
      JSON.stringify(p.applied ?? null),
    ],
  );
}

/** ERROR with the fault that says why; with a power state when a host reported one. */
export async function setFailed(m: EntityManager, id: string, fault: Fault, powerState?: PowerState): Promise<void> {
  await m.query(
    `UPDATE instances SET status = 'ERROR', task_state = NULL, fault = $2, power_state = coalesce($3, power_state),
            updated_at = now()
      WHERE id = $1`,
    [id, JSON.stringify(fault), powerState ?? null],
  );
}

/** Writes a flavor size onto the instance row (a cold resize landing, or undone). */
export async function setSize(m: EntityManager, id: string, size: FlavorSize): Promise<void> {
  await m.query(
    `UPDATE instances SET flavor_id = $2, flavor_name = $3, vcpus = $4, ram_mb = $5, disk_gb = $6, cpu_policy = $7,
            throttles = $8, limit_bounds = $9, updated_at = now()
      WHERE id = $1`,
    [
      id,
      size.flavorId,
      size.flavorName,
      size.vcpus,
      size.ramMb,
      size.diskGb,
      size.cpuPolicy,
      JSON.stringify(size.throttles),
      JSON.stringify(size.limitBounds),
    ],
  );
}

/** A live resize begins: the task, and the change the host is to apply (held until it reports). */
export async function setPendingResize(
  m: EntityManager,
  id: string,
  taskState: TaskState,
  pending: PendingResize,
): Promise<void> {
  await m.query(`UPDATE instances SET task_state = $2, pending_resize = $3, updated_at = now() WHERE id = $1`, [
    id,
    taskState,
    JSON.stringify(pending),
  ]);
}

/** A new instance's row, in BUILDING/scheduling until the scheduler places it. */
export interface NewInstanceRow {
  projectId: string;
  userId: string | null;
  name: string;
  kind: InstanceKind;
  flavor: FlavorSpec;
  image: { id: string; name: string; ref: string; boot: VmBoot | null };
  throttles: Throttles;
  zone: string | null;
  serverGroupId: string | null;
  reservationId: string | null;
  restartPolicy: RestartPolicy;
}

export async function insertInstance(m: EntityManager, n: NewInstanceRow): Promise<string> {
  const made = await one<{ id: string }>(
    m,
    `INSERT INTO instances (project_id, user_id, name, kind, status, task_state, flavor_id, flavor_name, vcpus, ram_mb,
                            disk_gb, image_id, image_name, image_ref, throttles, zone, server_group_id, reservation_id,
                            extra_specs, cpu_policy, limit_bounds, boot, restart_policy)
     VALUES ($1, $2, $3, $4, 'BUILDING', 'scheduling', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
             $19, $20, $21)
     RETURNING id`,
    [
      n.projectId,
      n.userId,
      n.name,
      n.kind,
      n.flavor.id,
      n.flavor.name,
      n.flavor.vcpus,
      n.flavor.ramMb,
      n.flavor.diskGb,
      n.image.id,
      n.image.name,
      n.image.ref,
      JSON.stringify(n.throttles),
      n.zone,
      n.serverGroupId,
      n.reservationId,
      JSON.stringify(n.flavor.extraSpecs),
      n.flavor.cpuPolicy,
      JSON.stringify(n.flavor.limitBounds),
      n.image.boot ? JSON.stringify(n.image.boot) : null,
      n.restartPolicy,
    ],
  );
  if (!made) throw new Error('insert into instances returned no row');
  return made.id;
}

export interface NewPort {
  networkId: string;
  instanceId: string;
  ip: string;
  mac: string;
  portSecurity: boolean;
  allowedAddressPairs: AddressPair[];
}

export async function insertPort(m: EntityManager, p: NewPort): Promise<string> {
  const made = await one<{ id: string }>(
    m,
    `INSERT INTO ports (network_id, instance_id, ip, mac, port_security, allowed_address_pairs)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [p.networkId, p.instanceId, p.ip, p.mac, p.portSecurity, JSON.stringify(p.allowedAddressPairs)],
  );
  if (!made) throw new Error('insert into ports returned no row');
  return made.id;
}

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

/** A build never placed (task scheduling) fails: ERROR, saying why; nothing is held on a host. */
export async function failUnplaced(m: EntityManager, id: string, fault: Fault): Promise<void> {
  await m.query(
    `UPDATE instances SET status = 'ERROR', task_state = NULL, fault = $2, updated_at = now()
      WHERE id = $1 AND status = 'BUILDING' AND task_state = 'scheduling'`,
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
