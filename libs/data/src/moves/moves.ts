import type { Fault, MigrationCommandType, MigrationKind, MigrationStatus, VolumeArtifact } from '@berth/contracts';
import { ACTIVE_MIGRATION } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import type { PendingResize } from '../entities/instance.entity';
import { one, rows } from '../sql';

/** The size a resize gives the instance, and the size it had (kept for a revert). */
export type FlavorSize = Omit<PendingResize['to'], 'pinnedCpus'>;
export interface ResizeRecord {
  to: FlavorSize;
  previous: FlavorSize;
  /**
   * A resize on the instance's own host (kind 'resize'): the host holds the larger of both sizes until it is
   * verified. A confirm gives back `shrink` and `releasedCpus`, a revert `grow` and `claimedCpus` and pins the
   * instance to `previousCpus` again.
   */
  held?: Omit<PendingResize, 'to' | 'verify' | 'revertOf'> & { previousCpus: number[] };
}

/**
 * One move of an instance between hosts (table instance_migrations): a migration, a drain's part, a cold resize
 * or an evacuation. The API shows it through its own view (apps/api's migration view), field by field.
 */
export interface MigrationRow {
  id: string;
  instanceId: string;
  operationId: string;
  kind: MigrationKind;
  status: MigrationStatus;
  /** An evacuation: what the rebuild could not keep. */
  lost: string | null;
  sourceHostId: string;
  sourceHost: string;
  targetHostId: string | null;
  targetHost: string | null;
  requestedHost: string | null;
  wasRunning: boolean;
  snapshotRef: string | null;
  targetPinnedCpus: number[];
  failedStep: string | null;
  fault: Fault | null;
  createdAt: Date;
  updatedAt: Date;
  parentOperationId: string | null;
  autoConfirm: boolean;
  resize: ResizeRecord | null;
  /** The step last sent, the host it went to and the operation it ran under (what a restart interrupts). */
  pendingCommand: MigrationCommandType | null;
  pendingOn: 'source' | 'target' | null;
  pendingOperationId: string | null;
  /** The instance's volumes as its source exported them at the snapshot (none before it, or without volumes). */
  volumeArtifacts: VolumeArtifact[];
}

const MIGRATION_COLUMNS = `
  m.id, m.instance_id AS "instanceId", m.operation_id AS "operationId", m.kind, m.status, m.lost,
  m.source_host_id AS "sourceHostId", s.name AS "sourceHost", m.target_host_id AS "targetHostId",
  t.name AS "targetHost", m.requested_host AS "requestedHost", m.was_running AS "wasRunning",
  m.snapshot_ref AS "snapshotRef", m.target_pinned_cpus AS "targetPinnedCpus", m.failed_step AS "failedStep",
  m.fault, m.created_at AS "createdAt", m.updated_at AS "updatedAt",
  m.parent_operation_id AS "parentOperationId", m.auto_confirm AS "autoConfirm", m.resize,
  m.pending_command AS "pendingCommand", m.pending_on AS "pendingOn", m.pending_operation_id AS "pendingOperationId",
  m.volume_artifacts AS "volumeArtifacts"`;

const MIGRATION_FROM = `
  FROM instance_migrations m JOIN hosts s ON s.id = m.source_host_id LEFT JOIN hosts t ON t.id = m.target_host_id`;

const MIGRATION_SQL = `SELECT ${MIGRATION_COLUMNS} ${MIGRATION_FROM}`;

/** A migration that has not ended (its instance has at most one). */
const OPEN = `m.status NOT IN ('confirmed', 'reverted', 'error')`;

/** The instance's migrations, newest first. */
export function migrationsOf(m: EntityManager, instanceId: string): Promise<MigrationRow[]> {
  return rows<MigrationRow>(m, `${MIGRATION_SQL} WHERE m.instance_id = $1 ORDER BY m.created_at DESC`, [instanceId]);
}

export function migration(m: EntityManager, id: string): Promise<MigrationRow | null> {
  return one<MigrationRow>(m, `${MIGRATION_SQL} WHERE m.id = $1`, [id]);
}

/** The migration, locked until the transaction ends; with `status`, only while it has that status. */
export function lockMigration(m: EntityManager, id: string, status?: MigrationStatus): Promise<MigrationRow | null> {
  return one<MigrationRow>(
    m,
    `${MIGRATION_SQL} WHERE m.id = $1 AND ($2::text IS NULL OR m.status = $2) FOR UPDATE OF m`,
    [id, status ?? null],
  );
}

/** The instance's migration that has not ended, locked. */
export function lockOpenMigration(m: EntityManager, instanceId: string): Promise<MigrationRow | null> {
  return one<MigrationRow>(m, `${MIGRATION_SQL} WHERE m.instance_id = $1 AND ${OPEN} FOR UPDATE OF m`, [instanceId]);
}

/** Instances whose migration has awaited verification for `afterSec` or more, oldest first. */
export async function awaitingConfirmSince(m: EntityManager, afterSec: number): Promise<string[]> {
  const due = await rows<{ instanceId: string }>(
    m,
    `SELECT instance_id AS "instanceId" FROM instance_migrations
      WHERE status = 'finished' AND updated_at <= now() - make_interval(secs => $1) ORDER BY updated_at LIMIT 100`,
    [afterSec],
  );
  return due.map((d) => d.instanceId);
}

/** Evacuations away from `hostName` that still wait for its stale copies to go, locked, with their instance's kind. */
export function lockEvacuatedFrom(
  m: EntityManager,
  hostName: string,
): Promise<Array<MigrationRow & { instanceKind: string }>> {
  return rows<MigrationRow & { instanceKind: string }>(
    m,
    `SELECT ${MIGRATION_COLUMNS}, i.kind AS "instanceKind" ${MIGRATION_FROM} JOIN instances i ON i.id = m.instance_id
      WHERE m.kind = 'evacuation' AND m.status = 'evacuated' AND s.name = $1 FOR UPDATE OF m`,
    [hostName],
  );
}

/** The running migrations among `ids` with a side on `hostName`, locked, each with the side the host plays. */
export function lockActiveMigrationsOn(
  m: EntityManager,
  hostName: string,
  ids: readonly string[],
): Promise<Array<MigrationRow & { role: 'source' | 'target' }>> {
  return rows<MigrationRow & { role: 'source' | 'target' }>(
    m,
    `SELECT ${MIGRATION_COLUMNS}, CASE WHEN s.name = $1 THEN 'source' ELSE 'target' END AS role ${MIGRATION_FROM}
      WHERE (s.name = $1 OR t.name = $1) AND m.status = ANY ($2) AND m.id = ANY ($3::uuid[])
      ORDER BY m.created_at FOR UPDATE OF m`,
    [hostName, ACTIVE_MIGRATION, ids],
  );
}

export interface NewMigration {
  instanceId: string;
  operationId: string;
  sourceHostId: string;
  requestedHost: string | null;
  wasRunning: boolean;
  parentOperationId: string | null;
  autoConfirm: boolean;
  kind: MigrationKind;
  lost: string | null;
  resize: ResizeRecord | null;
}

/** Records a queued migration; returns its id. */
export async function insertMigration(m: EntityManager, n: NewMigration): Promise<string> {
  const made = await one<{ id: string }>(
    m,
    `INSERT INTO instance_migrations (instance_id, operation_id, source_host_id, requested_host, status, was_running,
                                      parent_operation_id, auto_confirm, kind, lost, resize)
     VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8, $9, $10) RETURNING id`,
    [
      n.instanceId,
      n.operationId,
      n.sourceHostId,
      n.requestedHost,
      n.wasRunning,
      n.parentOperationId,
      n.autoConfirm,
      n.kind,
      n.lost,
      n.resize ? JSON.stringify(n.resize) : null,
    ],
  );
  if (!made) throw new Error('insert into instance_migrations returned no row');
  return made.id;
}

/**
 * Records a resize the instance's host applied live and that now awaits verification: a migration of kind 'resize'
 * from that host to itself, finished. Returns its id.
 */
export async function insertResizeAwaiting(
  m: EntityManager,
  n: { instanceId: string; operationId: string; hostId: string; wasRunning: boolean; resize: ResizeRecord },
): Promise<string> {
  const made = await one<{ id: string }>(
    m,
    `INSERT INTO instance_migrations (instance_id, operation_id, source_host_id, target_host_id, status, was_running,
                                      auto_confirm, kind, resize)
     VALUES ($1, $2, $3, $3, 'finished', $4, false, 'resize', $5) RETURNING id`,
    [n.instanceId, n.operationId, n.hostId, n.wasRunning, JSON.stringify(n.resize)],
  );
  if (!made) throw new Error('insert into instance_migrations returned no row');
  return made.id;
}

export async function setMigrationStatus(m: EntityManager, id: string, status: MigrationStatus): Promise<void> {
  await m.query('UPDATE instance_migrations SET status = $2, updated_at = now() WHERE id = $1', [id, status]);
}

/**
 * Moves the migration to `status`; a fault (the first one wins unless `replace`) and its step are recorded with
 * it. A migration keeps the fault that first undid it.
 */
export async function setMigrationFault(
  m: EntityManager,
  id: string,
  status: MigrationStatus,
  fault: Fault | null,
  mode: 'keep-first' | 'replace' = 'replace',
): Promise<void> {
  await m.query(
    `UPDATE instance_migrations SET status = $2, updated_at = now(),
            failed_step = CASE WHEN $3::text IS NULL OR ($4 AND failed_step IS NOT NULL) THEN failed_step ELSE $3 END,
            fault = CASE WHEN $5::jsonb IS NULL OR ($4 AND fault IS NOT NULL) THEN fault ELSE $5::jsonb END
      WHERE id = $1`,
    [id, status, fault?.step ?? null, mode === 'keep-first', fault ? JSON.stringify(fault) : null],
  );
}

/** The target the scheduler claimed, the CPUs pinned there, the snapshot's name, and the migration's next status. */
export async function setMigrationTarget(
  m: EntityManager,
  id: string,
  target: { hostId: string; pinnedCpus: number[]; snapshotRef: string | null; status: MigrationStatus },
): Promise<void> {
  await m.query(
    `UPDATE instance_migrations SET status = $5, target_host_id = $2, target_pinned_cpus = $3, snapshot_ref = $4,
            updated_at = now()
      WHERE id = $1`,
    [id, target.hostId, target.pinnedCpus, target.snapshotRef, target.status],
  );
}

export async function setSnapshotRef(m: EntityManager, id: string, ref: string): Promise<void> {
  await m.query('UPDATE instance_migrations SET snapshot_ref = $2 WHERE id = $1', [id, ref]);
}

/** What the source exported of the instance's volumes, for the target's fetch. */
export async function setVolumeArtifacts(m: EntityManager, id: string, artifacts: VolumeArtifact[]): Promise<void> {
  await m.query('UPDATE instance_migrations SET volume_artifacts = $2 WHERE id = $1', [id, JSON.stringify(artifacts)]);
}

/** The step just sent: which, to which side, under which operation (what a restart of that host interrupts). */
export async function setPendingStep(
  m: EntityManager,
  id: string,
  step: { command: MigrationCommandType; on: 'source' | 'target'; operationId: string },
): Promise<void> {
  await m.query(
    `UPDATE instance_migrations SET pending_command = $2, pending_on = $3, pending_operation_id = $4 WHERE id = $1`,
    [id, step.command, step.on, step.operationId],
  );
}

/** The running migration whose pending step runs under `operationId`, if any (what the watchdog gives up). */
export function migrationAwaiting(
  m: EntityManager,
  operationId: string,
): Promise<{ id: string; instanceId: string; command: MigrationCommandType } | null> {
  return one(
    m,
    `SELECT id, instance_id AS "instanceId", pending_command AS command FROM instance_migrations
      WHERE pending_operation_id = $1 AND status = ANY ($2) AND pending_command IS NOT NULL`,
    [operationId, ACTIVE_MIGRATION],
  );
}
