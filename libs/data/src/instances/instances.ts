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
