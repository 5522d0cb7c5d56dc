import type { AppliedLimits, Fault, PowerState } from '@berth/contracts';
import type { InstanceStatus, TaskState } from '@berth/domain';
import type { EntityManager } from 'typeorm';
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

/**
 * An idle instance after a task ended: no task, and the status `statusOf` gives for the power state its hypervisor
 * last reported (the caller holds the row's lock).
 */
export async function settleByPower(
  m: EntityManager,
  id: string,
  statusOf: (power: PowerState) => InstanceStatus,
): Promise<void> {
  const row = await one<{ powerState: PowerState }>(
    m,
    'SELECT power_state AS "powerState" FROM instances WHERE id = $1',
    [id],
  );
  if (!row) return;
  await m.query('UPDATE instances SET status = $2, task_state = NULL, updated_at = now() WHERE id = $1', [
    id,
    statusOf(row.powerState),
  ]);
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
