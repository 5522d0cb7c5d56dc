import {
  CONTRACT_VERSION,
  computeQueue,
  jobId,
  MIGRATE_INSTANCE,
  PLACEMENT_QUEUE,
  snapshotRef,
  artifactRef,
  type AgentReport,
  type SshPeer,
  type Fault,
  type InstanceSpec,
  type InterruptedCommand,
  type MigrateInstanceJob,
  type MigrationCommand,
  type MigrationCommandType,
  type MigrationKind,
  type MigrationStatus,
  type PowerState,
  type RequestSpec,
} from '@berth/contracts';
import {
  ACTIVE_MIGRATION,
  BerthError,
  beginMigrationAction,
  conductMigration,
  recoverMigration,
  type MigrationRecovery,
  type InstanceStatus,
  type MigrationAction,
  type MigrationMove,
  type Resources,
} from '@berth/domain';
import type { DataSource, EntityManager } from 'typeorm';
import {
  claimOnHost,
  releaseAllocations,
  type HostLimits,
  type PendingResize,
  INSTANCE_RECORD_SQL,
  type InstanceRecord,
  addPendingSteps,
  finishOperation,
  finishPart,
  insertOperation,
  recordStep,
  type Actor,
  enqueue,
  one,
  rows,
} from '@berth/data';
import { specOf } from '../specs/instance-spec';

/** A migration record as the API shows it. */
export interface MigrationRecord {
  id: string;
  instanceId: string;
  operationId: string;
  kind: MigrationKind;
  status: MigrationStatus;
  /** An evacuation: what the rebuild could not keep. */
  lost: string | null;
  sourceHost: string;
  targetHost: string | null;
  requestedHost: string | null;
  wasRunning: boolean;
  snapshotRef: string | null;
  failedStep: string | null;
  fault: Fault | null;
  createdAt: Date;
  updatedAt: Date;
}

interface MigrationRow extends MigrationRecord {
  sourceHostId: string;
  targetHostId: string | null;
  targetPinnedCpus: number[];
  parentOperationId: string | null;
  autoConfirm: boolean;
  resize: ColdResize | null;
  pendingCommand: MigrationCommandType | null;
  pendingOn: 'source' | 'target' | null;
  pendingOperationId: string | null;
}

const MIGRATION_SQL = `
  SELECT m.id, m.instance_id AS "instanceId", m.operation_id AS "operationId", m.kind, m.status, m.lost,
         m.source_host_id AS "sourceHostId", s.name AS "sourceHost", m.target_host_id AS "targetHostId",
         t.name AS "targetHost", m.requested_host AS "requestedHost", m.was_running AS "wasRunning",
         m.snapshot_ref AS "snapshotRef", m.target_pinned_cpus AS "targetPinnedCpus", m.failed_step AS "failedStep",
         m.fault, m.created_at AS "createdAt", m.updated_at AS "updatedAt",
         m.parent_operation_id AS "parentOperationId", m.auto_confirm AS "autoConfirm", m.resize,
         m.pending_command AS "pendingCommand", m.pending_on AS "pendingOn", m.pending_operation_id AS "pendingOperationId"
    FROM instance_migrations m JOIN hosts s ON s.id = m.source_host_id LEFT JOIN hosts t ON t.id = m.target_host_id`;

const OPEN = `m.status NOT IN ('confirmed', 'reverted', 'error')`;

/** Hosts reach each other's SSH on its standard port (a VM's disk moves over it). */
const SSH_PORT = 22;

/** The step of a drain's or an evacuation's operation that one instance's move closes. */
const partOf = (kind: MigrationKind, instanceId: string) =>
  `${kind === 'evacuation' ? 'evacuate' : 'migrate'} ${instanceId}`;

/** Where an idle instance lands after its migration ends: what its hypervisor says decides. */
const statusOf = (power: PowerState): InstanceStatus => (power === 'RUNNING' ? 'ACTIVE' : 'SHUTOFF');

type MigrationReport = Extract<AgentReport, { type: 'migration.result' }>;

/**
 * Cold migration in the database: the API starts and ends migrations here, the scheduler claims
 * targets and, as conductor, turns each host's report into the next command (conductMigration).
 * Every change is one transaction with the commands it sends (the outbox), under the migration's
 * row lock, so a report delivered twice finds the state moved on and changes nothing.
 */
export class MigrationStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly limits: HostLimits,
    /** Where snapshots go (host:port of the registry every compute host can reach). */
    private readonly registry: string,
  ) {}

  /** API: starts a migration (admin), or confirms or reverts one awaiting verification. */
  request(instanceId: string, action: MigrationAction, actor: Actor, options: { host?: string } = {}): Promise<string> {
    return this.dataSource.transaction(async (m) => {
      await m.query('SELECT 1 FROM instances WHERE id = $1 FOR UPDATE', [instanceId]);
      const instance = await one<InstanceRecord>(
        m,
        `${INSTANCE_RECORD_SQL} WHERE i.id = $1 AND i.status <> 'DELETED'`,
        [instanceId],
      );
      if (!instance) throw BerthError.notFound('instance', instanceId);
      const check = beginMigrationAction(instance, action);
      if (!check.ok) throw BerthError.conflict(check.reason, 'action', 'state');
      const operationId = await insertOperation(
        m,
        { ...actor, projectId: instance.projectId },
        { action: `instance.${action}`, targetType: 'instance', targetId: instanceId },
      );
      if (action === 'migrate') await startMigration(m, instance, operationId, { host: options.host ?? null });
      else await this.end(m, instance, operationId, action);
      await m.query('UPDATE instances SET task_state = $2, updated_at = now() WHERE id = $1', [
        instanceId,
        check.taskState,
      ]);
      return operationId;
    });
  }

  /**
   * Scheduler: confirms every migration that has awaited verification for `afterSec` or more (Nova's
   * resize_confirm_window), as the operator would. Returns the instances it confirmed.
   */
  async autoConfirm(afterSec: number): Promise<string[]> {
    const due = await rows<{ instanceId: string }>(
      this.dataSource.manager,
      `SELECT instance_id AS "instanceId" FROM instance_migrations
        WHERE status = 'finished' AND updated_at <= now() - make_interval(secs => $1) ORDER BY updated_at LIMIT 100`,
      [afterSec],
    );
    const confirmed: string[] = [];
    for (const { instanceId } of due) {
      try {
        await this.request(instanceId, 'confirm', { projectId: null, userId: null, requestId: 'auto-confirm' });
        confirmed.push(instanceId);
      } catch (error) {
        // Confirmed or reverted meanwhile by an operator: nothing is due any more.
        if (!(error instanceof BerthError)) throw error;
      }
    }
    return confirmed;
  }

  /**
   * API: drains a host. It leaves scheduling at once, and every instance that can move is migrated
   * off it and confirmed without waiting (one migration each, a step each in the drain's
   * operation); those that cannot move are failed steps saying why. The drain's operation ends when
   * the last migration does.
   */
  drain(hostId: string, actor: Actor): Promise<string> {
    return this.moveAll(hostId, actor, 'migration');
  }

  /**
   * API: evacuates a host that is down (no heartbeat for `downAfterSec`): every instance on it is
   * rebuilt elsewhere from its image with the same identity (id, port, MAC, address, VLAN, limits);
   * what it had written to its own disk is lost, and the record says so. The old host's claim stays
   * until it is back and has removed its stale copies (cleanupEvacuated). Refused while the host is up.
   */
  async evacuate(hostId: string, actor: Actor, downAfterSec: number): Promise<string> {
    const host = await one<{ name: string; up: boolean }>(
      this.dataSource.manager,
      `SELECT name, last_heartbeat_at > now() - make_interval(secs => $2) AS up FROM hosts WHERE id = $1`,
      [hostId, downAfterSec],
    );
    if (!host) throw BerthError.notFound('host', hostId);
    if (host.up) {
      throw BerthError.conflict(
        `host ${host.name} is up: evacuate only a host that is down (and fenced); migrate or drain instead`,
        'host',
        'down',
      );
    }
    return this.moveAll(hostId, actor, 'evacuation');
  }

  /**
   * Scheduler, on a host's power sync: evacuations from that host whose stale copy it still lists
   * are cleaned there (migration.drop); those it no longer holds only give back the host's claim.
   */
  async cleanupEvacuated(report: Extract<AgentReport, { type: 'host.power-states' }>): Promise<number> {
    const listed = new Set([...report.instances.map((i) => i.instanceId), ...report.busy]);
    return this.dataSource.transaction(async (m) => {
      const due = await rows<MigrationRow>(
        m,
        `${MIGRATION_SQL} JOIN instances i ON i.id = m.instance_id
          WHERE m.kind = 'evacuation' AND m.status = 'evacuated' AND s.name = $1 FOR UPDATE OF m`,
        [report.host],
      );
      const kinds = new Map(
        (
          await rows<{ id: string; kind: string }>(m, 'SELECT id, kind FROM instances WHERE id = ANY ($1::uuid[])', [
            due.map((d) => d.instanceId),
          ])
        ).map((r) => [r.id, r.kind]),
      );
      for (const mig of due) {
        if (listed.has(mig.instanceId)) {
          await setMigrationStatus(m, mig.id, 'cleaning');
          await this.send(m, { ...mig, status: 'cleaning' }, mig.operationId, 'migration.drop', 'source');
        } else if ((report.kinds as string[]).includes(kinds.get(mig.instanceId) ?? '')) {
          await setMigrationStatus(m, mig.id, 'confirmed');
          await releaseAllocations(m, { migrationId: mig.id });
        }
      }
      return due.length;
    });
  }

  /** Drain (migrate) or evacuate every instance of a host, one move each under a parent operation. */
  private moveAll(hostId: string, actor: Actor, kind: MigrationKind): Promise<string> {
    return this.dataSource.transaction(async (m) => {
      const host = await one<{ name: string }>(m, 'SELECT name FROM hosts WHERE id = $1 FOR UPDATE', [hostId]);
      if (!host) throw BerthError.notFound('host', hostId);
      const reason = kind === 'evacuation' ? 'evacuated' : 'draining';
      await m.query(`UPDATE hosts SET enabled = false, disabled_reason = $2 WHERE id = $1`, [hostId, reason]);
      const action = kind === 'evacuation' ? 'host.evacuate' : 'host.drain';
      const parentId = await insertOperation(m, actor, { action, targetType: 'host', targetId: hostId });
      const at = new Date().toISOString();
      const held = await rows<InstanceRecord>(
        m,
        `${INSTANCE_RECORD_SQL} WHERE i.host_id = $1 AND i.status <> 'DELETED' ORDER BY i.created_at FOR UPDATE OF i`,
        [hostId],
      );
      if (held.length === 0) {
        await recordStep(m, parentId, 'disable', at, `host ${host.name} takes no new instances; it holds none`);
        await finishOperation(m, parentId, null);
        return parentId;
      }
      await addPendingSteps(
        m,
        parentId,
        held.map((i) => partOf(kind, i.id)),
        at,
      );
      for (const instance of held) {
        // An evacuation also rebuilds what was in ERROR on the dead host, as Nova does.
        const movable =
          kind === 'evacuation' && instance.status === 'ERROR' && instance.taskState === null
            ? ({ ok: true, taskState: 'migrating' } as const)
            : beginMigrationAction(instance, 'migrate');
        const refusal = !movable.ok ? movable.reason : null;
        if (refusal !== null || !movable.ok) {
          await finishPart(m, parentId, partOf(kind, instance.id), {
            ok: false,
            detail: `${instance.name}: ${refusal}`,
            at,
          });
          continue;
        }
        const operationId = await insertOperation(
          m,
          { ...actor, projectId: instance.projectId },
          {
            action: `instance.${kind === 'evacuation' ? 'evacuate' : 'migrate'}`,
            targetType: 'instance',
            targetId: instance.id,
          },
        );
        await startMigration(m, instance, operationId, { host: null, parent: { id: parentId, kind } });
        await m.query('UPDATE instances SET task_state = $2, updated_at = now() WHERE id = $1', [
          instance.id,
          movable.taskState,
        ]);
      }
      return parentId;
    });
  }

  /** The instance's migrations, newest first. */
  list(instanceId: string): Promise<MigrationRecord[]> {
    return rows<MigrationRow>(
      this.dataSource.manager,
      `${MIGRATION_SQL} WHERE m.instance_id = $1 ORDER BY m.created_at DESC`,
      [instanceId],
    ).then((found) => found.map(recordOf));
  }

  get(id: string): Promise<MigrationRecord | null> {
    return one<MigrationRow>(this.dataSource.manager, `${MIGRATION_SQL} WHERE m.id = $1`, [id]).then((r) =>
      r ? recordOf(r) : null,
    );
  }

  /** confirm: the source drops its copy and the snapshot. revert: the target drops its copy, then the source restores. */
  private async end(m: EntityManager, instance: InstanceRecord, operationId: string, action: 'confirm' | 'revert') {
    const mig = await one<MigrationRow>(m, `${MIGRATION_SQL} WHERE m.instance_id = $1 AND ${OPEN} FOR UPDATE OF m`, [
      instance.id,
    ]);
    if (!mig || mig.status !== 'finished') {
      throw BerthError.conflict('the instance has no migration awaiting verification', 'action', 'state');
    }
    const next: MigrationStatus = action === 'confirm' ? 'confirming' : 'reverting';
    await m.query('UPDATE instance_migrations SET status = $2, updated_at = now() WHERE id = $1', [mig.id, next]);
    await this.send(
      m,
      { ...mig, status: next },
      operationId,
      'migration.drop',
      action === 'confirm' ? 'source' : 'target',
    );
  }

  /**
   * Scheduler: claims the instance's resources on `host` for the migration and starts it on the
   * source. The source's claim passes to the migration record, so both hosts stay held.
   */
  claimTarget(
    job: MigrateInstanceJob,
    host: { id: string; name: string },
    resources: Resources,
  ): Promise<'claimed' | 'host-full' | 'gone'> {
    return this.dataSource.transaction(async (m) => {
      const mig = await one<MigrationRow>(
        m,
        `${MIGRATION_SQL} WHERE m.id = $1 AND m.status = 'queued' FOR UPDATE OF m`,
        [job.migrationId],
      );
      if (!mig) return 'gone';
      const pinned = await claimOnHost(m, { instanceId: job.instanceId }, host.id, resources, this.limits);
      if (!pinned) return 'host-full';
      await m.query(
        `UPDATE allocations SET instance_id = NULL, migration_id = $3
          WHERE instance_id = $1 AND host_id = $2`,
        [job.instanceId, mig.sourceHostId, mig.id],
      );
      // An evacuation rebuilds from the image on the target at once: its source is down.
      const evacuation = mig.kind === 'evacuation';
      const ref = evacuation ? null : snapshotRef(this.registry, job.instanceId, mig.id);
      const status: MigrationStatus = evacuation ? 'post-migrating' : 'pre-migrating';
      await m.query(
        `UPDATE instance_migrations SET status = $5, target_host_id = $2, target_pinned_cpus = $3, snapshot_ref = $4,
                updated_at = now()
          WHERE id = $1`,
        [mig.id, host.id, pinned, ref, status],
      );
      await recordStep(m, job.operationId, 'schedule', new Date().toISOString(), `to host ${host.name}`);
      await this.send(
        m,
        { ...mig, status, targetHostId: host.id, targetHost: host.name, targetPinnedCpus: pinned, snapshotRef: ref },
        job.operationId,
        evacuation ? 'migration.receive' : 'migration.snapshot',
        evacuation ? 'target' : 'source',
      );
      return 'claimed';
    });
  }

  /** Scheduler: no host takes the instance; it stays where it was, and the migration says why. */
  async noValidHost(job: MigrateInstanceJob, message: string): Promise<void> {
    const fault: Fault = { step: 'schedule', message, at: new Date().toISOString() };
    await this.dataSource.transaction(async (m) => {
      const mig = await one<MigrationRow>(
        m,
        `${MIGRATION_SQL} WHERE m.id = $1 AND m.status = 'queued' FOR UPDATE OF m`,
        [job.migrationId],
      );
      if (!mig) return;
      await m.query(
        `UPDATE instance_migrations SET status = 'error', failed_step = 'schedule', fault = $2, updated_at = now() WHERE id = $1`,
        [mig.id, JSON.stringify(fault)],
      );
      await m.query(
        `UPDATE instances SET status = CASE WHEN power_state = 'RUNNING' THEN 'ACTIVE' ELSE 'SHUTOFF' END,
                task_state = NULL, updated_at = now()
          WHERE id = $1`,
        [mig.instanceId],
      );
      await finishOperation(m, job.operationId, fault);
      if (mig.parentOperationId) {
        await finishPart(m, mig.parentOperationId, partOf(mig.kind, mig.instanceId), {
          ok: false,
          detail: message,
          at: fault.at,
        });
      }
    });
  }

  /** Scheduler (conductor): a host reported one step; the migration moves on, back, or ends. */
  apply(report: MigrationReport): Promise<MigrationMove['kind']> {
    return this.dataSource.transaction(async (m) => {
      const mig = await one<MigrationRow>(m, `${MIGRATION_SQL} WHERE m.id = $1 FOR UPDATE OF m`, [report.migrationId]);
      if (!mig) return 'ignore';
      const move = conductMigration(mig.status, report.command, report.fault === undefined, mig.kind);
      const instanceId = mig.instanceId;
      switch (move.kind) {
        case 'ignore':
          break;
        case 'send': {
          const failure = move.failed && report.fault ? report.fault : null;
          await m.query(
            `UPDATE instance_migrations SET status = $2, updated_at = now(),
                    failed_step = COALESCE($3, failed_step), fault = COALESCE($4::jsonb, fault)
              WHERE id = $1`,
            [mig.id, move.status, failure?.step ?? null, failure ? JSON.stringify(failure) : null],
          );
          if (failure) {
            await recordStep(m, report.operationId, 'revert', report.at, `${failure.step} failed: ${failure.message}`);
          }
          // A VM's snapshot is its exported disk on the source: the target fetches it from there.
          let ref = mig.snapshotRef;
          if (report.command === 'migration.snapshot' && report.artifact) {
            const source = await one<{ address: string }>(m, 'SELECT address FROM hosts WHERE id = $1', [
              mig.sourceHostId,
            ]);
            ref = artifactRef(source?.address ?? '', SSH_PORT, report.artifact);
            await m.query('UPDATE instance_migrations SET snapshot_ref = $2 WHERE id = $1', [mig.id, ref]);
          }
          await this.send(
            m,
            { ...mig, status: move.status, snapshotRef: ref },
            report.operationId,
            move.command,
            move.to,
          );
          break;
        }
        case 'finished':
          if (mig.resize) await setSize(m, instanceId, mig.resize.to);
          if (mig.autoConfirm) {
            // A drain's (or a cold resize's) move is final at once: the source drops its copy under the same operation.
            await setMigrationStatus(m, mig.id, 'confirming');
            await landOnTarget(m, mig, report, 'VERIFY_MIGRATION', 'confirming');
            await this.send(m, { ...mig, status: 'confirming' }, report.operationId, 'migration.drop', 'source');
            break;
          }
          await setMigrationStatus(m, mig.id, 'finished');
          await landOnTarget(m, mig, report, 'VERIFY_MIGRATION', null);
          await finishOperation(m, report.operationId, null);
          break;
        case 'confirmed':
          await setMigrationStatus(m, mig.id, 'confirmed');
          await releaseAllocations(m, { migrationId: mig.id });
          await this.settleInstance(m, instanceId);
          await finishOperation(m, report.operationId, null);
          break;
        case 'confirm-failed': {
          // The instance runs on the target; the source's copy and claim stay for an operator.
          const fault = report.fault ?? failedWithout(report);
          await m.query(
            `UPDATE instance_migrations SET status = 'error', failed_step = $2, fault = $3, updated_at = now() WHERE id = $1`,
            [mig.id, fault.step, JSON.stringify(fault)],
          );
          await this.settleInstance(m, instanceId);
          await finishOperation(m, report.operationId, fault);
          break;
        }
        case 'reverted': {
          if (mig.resize) await setSize(m, instanceId, mig.resize.previous);
          await m.query(`UPDATE instance_migrations SET status = $2, updated_at = now() WHERE id = $1`, [
            mig.id,
            mig.fault ? 'error' : 'reverted',
          ]);
          if (mig.targetHostId) await releaseAllocations(m, { instanceId, hostId: mig.targetHostId });
          const [back] = await rows<{ pinned: number[] }>(
            m,
            `UPDATE allocations SET instance_id = $2, migration_id = NULL WHERE migration_id = $1 RETURNING pinned_cpus AS pinned`,
            [mig.id, instanceId],
          );
          await m.query(
            `UPDATE instances SET host_id = $2, pinned_cpus = $3, power_state = $4, status = $5, task_state = NULL,
                    applied_limits = CASE WHEN $6 THEN $7::jsonb ELSE applied_limits END, updated_at = now()
              WHERE id = $1`,
            [
              instanceId,
              mig.sourceHostId,
              back?.pinned ?? [],
              report.powerState,
              statusOf(report.powerState),
              report.applied !== undefined,
              JSON.stringify(report.applied ?? null),
            ],
          );
          // An automatic revert fails the migrate operation with the step that failed; a revert asked for succeeds.
          await finishOperation(m, report.operationId, mig.fault);
          break;
        }
        case 'evacuated':
          await setMigrationStatus(m, mig.id, 'evacuated');
          await landOnTarget(m, mig, report, statusOf(report.powerState), null);
          await finishOperation(m, report.operationId, null);
          break;
        case 'evacuation-failed': {
          const fault = mig.fault ?? report.fault ?? failedWithout(report);
          await setMigrationStatus(m, mig.id, 'error');
          if (mig.targetHostId) await releaseAllocations(m, { instanceId, hostId: mig.targetHostId });
          await m.query(`UPDATE allocations SET instance_id = $2, migration_id = NULL WHERE migration_id = $1`, [
            mig.id,
            instanceId,
          ]);
          await m.query(
            `UPDATE instances SET status = 'ERROR', task_state = NULL, fault = $2, updated_at = now() WHERE id = $1`,
            [instanceId, JSON.stringify({ ...fault, message: `evacuation failed: ${fault.message}` })],
          );
          await finishOperation(m, report.operationId, fault);
          break;
        }
        case 'cleaned':
          await setMigrationStatus(m, mig.id, 'confirmed');
          await releaseAllocations(m, { migrationId: mig.id });
          break;
        case 'clean-failed':
          // Tried again at the host's next power sync.
          await setMigrationStatus(m, mig.id, 'evacuated');
          break;
        case 'revert-failed': {
          const fault = report.fault ?? failedWithout(report);
          await m.query(
            `UPDATE instance_migrations SET status = 'error', fault = COALESCE(fault, $2), updated_at = now() WHERE id = $1`,
            [mig.id, JSON.stringify(fault)],
          );
          await m.query(
            `UPDATE instances SET status = 'ERROR', task_state = NULL, power_state = $2, fault = $3, updated_at = now()
              WHERE id = $1`,
            [instanceId, report.powerState, JSON.stringify({ ...fault, message: `revert failed: ${fault.message}` })],
          );
          await finishOperation(m, report.operationId, fault);
          break;
        }
      }
      const ends = ['confirmed', 'confirm-failed', 'reverted', 'revert-failed', 'evacuated', 'evacuation-failed'];
      if (mig.parentOperationId && ends.includes(move.kind)) {
        const ok = move.kind === 'confirmed' || move.kind === 'evacuated';
        const failure = report.fault ?? mig.fault;
        await finishPart(m, mig.parentOperationId, partOf(mig.kind, instanceId), {
          ok,
          detail: ok
            ? `to ${mig.targetHost ?? '?'}`
            : `${failure?.step ?? report.command} failed: ${failure?.message ?? 'unknown'}`,
          at: report.at,
        });
      }
      return move.kind;
    });
  }

  /** An idle instance after its migration ended: its status follows what its hypervisor said. */
  private async settleInstance(m: EntityManager, instanceId: string): Promise<void> {
    await m.query(
      `UPDATE instances SET status = CASE WHEN power_state = 'RUNNING' THEN 'ACTIVE' ELSE 'SHUTOFF' END,
              task_state = NULL, updated_at = now()
        WHERE id = $1`,
      [instanceId],
    );
  }

  /** The source host's SSH for a target fetching a VM's disk, with the key pinned for it (if known). */
  private async peer(m: EntityManager, mig: MigrationRow): Promise<SshPeer> {
    const source = await one<{ address: string; fingerprint: string | null; username: string | null }>(
      m,
      `SELECT h.address, k.fingerprint,
              (SELECT e.username FROM host_enrollments e WHERE e.name = h.name AND e.status = 'enrolled'
                ORDER BY e.created_at DESC LIMIT 1) AS username
         FROM hosts h LEFT JOIN known_host_keys k ON k.address = h.address AND k.port = $2
        WHERE h.id = $1`,
      [mig.sourceHostId, SSH_PORT],
    );
    return {
      address: source?.address ?? '',
      port: SSH_PORT,
      username: source?.username ?? 'root',
      fingerprint: source?.fingerprint ?? null,
    };
  }

  /** Queues one step of the migration on the source or the target, with the spec as that host holds it. */
  private async send(
    m: EntityManager,
    mig: MigrationRow,
    operationId: string,
    type: MigrationCommandType,
    to: 'source' | 'target',
    /** Set when a step is sent again: a job of its own. */
    retry?: string,
  ): Promise<void> {
    const host = to === 'source' ? mig.sourceHost : mig.targetHost;
    if (!host) throw new Error(`migration ${mig.id} has no ${to} host yet`);
    if (mig.kind === 'migration' && !mig.snapshotRef) throw new Error(`migration ${mig.id} has no snapshot yet`);
    const record = await one<InstanceRecord>(m, `${INSTANCE_RECORD_SQL} WHERE i.id = $1`, [mig.instanceId]);
    if (!record) throw new Error(`instance ${mig.instanceId} vanished during its migration`);
    const base = specOf(record);
    const sourcePins = await one<{ pinned: number[] }>(
      m,
      `SELECT pinned_cpus AS pinned FROM allocations WHERE migration_id = $1`,
      [mig.id],
    );
    const instance: InstanceSpec =
      to === 'target'
        ? {
            ...base,
            // A container starts from its snapshot image; a VM from its own fetched disk on its image.
            imageRef: base.kind === 'container' && mig.snapshotRef ? mig.snapshotRef : base.imageRef,
            // A cold resize lands with its new size; a migration with the size it has.
            ...(mig.resize ? { diskGb: mig.resize.to.diskGb } : {}),
            limits: {
              ...(mig.resize
                ? {
                    ...mig.resize.to.throttles,
                    vcpus: mig.resize.to.vcpus,
                    ramMb: mig.resize.to.ramMb,
                    cpuPolicy: mig.resize.to.cpuPolicy,
                  }
                : base.limits),
              pinnedCpus: mig.targetPinnedCpus,
            },
          }
        : { ...base, limits: { ...base.limits, pinnedCpus: sourcePins?.pinned ?? base.limits.pinnedCpus } };
    const command: MigrationCommand = {
      v: CONTRACT_VERSION,
      type,
      operationId,
      migrationId: mig.id,
      instance,
      snapshotRef: mig.snapshotRef,
      powerOn: mig.wasRunning,
      // The registry's copy goes once the move is final (confirm); an undone move's restore removes it.
      forgetSnapshot: mig.status === 'confirming',
      ...(type === 'migration.fetch' && base.kind === 'vm' ? { peer: await this.peer(m, mig) } : {}),
    };
    await m.query(
      `UPDATE instance_migrations SET pending_command = $2, pending_on = $3, pending_operation_id = $4 WHERE id = $1`,
      [mig.id, type, to, operationId],
    );
    await enqueue(m, {
      queue: computeQueue(host),
      name: type,
      jobId: jobId(operationId, `${type}-${host}${retry ? `-${retry}` : ''}`),
      payload: command,
    });
  }

  /**
   * A host's agent restarted (RecoveryStore): the steps of its migrations that it was running are
   * failed (a forward step: the move reverts) or sent again (an undo or a clean-up), once per
   * `incarnation`. Returns what it did, per migration.
   */
  async recoverHost(
    hostName: string,
    incarnation: string,
    cut: InterruptedCommand[],
    at: string,
  ): Promise<Array<{ migrationId: string; instanceId: string; recovery: MigrationRecovery['kind'] }>> {
    const commands = new Map(cut.map((c) => [c.migrationId, c.command]));
    const interrupted = await this.dataSource.transaction(async (m) => {
      const migs = await rows<MigrationRow & { role: 'source' | 'target' }>(
        m,
        `${MIGRATION_SQL.replace('SELECT', `SELECT CASE WHEN s.name = $1 THEN 'source' ELSE 'target' END AS role,`)}
          WHERE (s.name = $1 OR t.name = $1) AND m.status = ANY ($2) AND m.id = ANY ($3::uuid[])
          ORDER BY m.created_at FOR UPDATE OF m`,
        [hostName, ACTIVE_MIGRATION, [...commands.keys()]],
      );
      const failed: MigrationReport[] = [];
      const done: Array<{ migrationId: string; instanceId: string; recovery: MigrationRecovery['kind'] }> = [];
      for (const mig of migs) {
        const recovery = recoverMigration(mig, mig.role);
        // Only the step it awaits, if that is the one cut short (not an earlier step's leftover job).
        if (recovery.kind === 'none' || !mig.pendingOperationId || commands.get(mig.id) !== recovery.command) continue;
        done.push({ migrationId: mig.id, instanceId: mig.instanceId, recovery: recovery.kind });
        const why = `the agent on ${hostName} restarted during ${recovery.command}`;
        if (recovery.kind === 'resend') {
          await recordStep(m, mig.pendingOperationId, 'recover', at, `${why}: sent again`);
          await this.send(m, mig, mig.pendingOperationId, recovery.command, mig.role, `recover-${incarnation}`);
        } else {
          failed.push({
            v: CONTRACT_VERSION,
            type: 'migration.result',
            operationId: mig.pendingOperationId,
            migrationId: mig.id,
            instanceId: mig.instanceId,
            command: recovery.command,
            powerState: 'NOSTATE',
            at,
            fault: { step: 'recover', message: why, at },
          });
        }
      }
      return { failed, done };
    });
    for (const report of interrupted.failed) await this.apply(report);
    return interrupted.done;
  }
}

/** The size a cold resize gives the instance on its target, and the size it had (kept for a revert). */
export type FlavorSize = Omit<PendingResize['to'], 'pinnedCpus'>;
export interface ColdResize {
  to: FlavorSize;
  previous: FlavorSize;
}

/**
 * Records a migration of the instance and queues its placement, in the caller's transaction: a
 * migration asked for (host: the named target), a drain's or an evacuation's part (parent), or a
 * cold resize (resize: the new size, claimed on the target; confirmed as soon as it lands).
 */
export async function startMigration(
  m: EntityManager,
  instance: InstanceRecord,
  operationId: string,
  options: { host: string | null; parent?: { id: string; kind: MigrationKind }; resize?: ColdResize },
): Promise<void> {
  const { host, parent, resize } = options;
  if (!instance.hostId || !instance.hostName) throw BerthError.conflict('the instance has no host', 'action');
  if (host !== null) {
    const named = await one<{ id: string }>(m, 'SELECT id FROM hosts WHERE name = $1', [host]);
    if (!named) throw BerthError.notFound('host', host, 'host');
    if (named.id === instance.hostId) {
      throw BerthError.invalid([
        { field: 'host', rule: 'other', message: `host ${host} is where the instance already is` },
      ]);
    }
  }
  const kind = parent?.kind ?? 'migration';
  const migration = await one<{ id: string }>(
    m,
    `INSERT INTO instance_migrations (instance_id, operation_id, source_host_id, requested_host, status, was_running,
                                      parent_operation_id, auto_confirm, kind, lost, resize)
     VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8, $9, $10) RETURNING id`,
    [
      instance.id,
      operationId,
      instance.hostId,
      host,
      instance.status === 'ACTIVE' && instance.powerState === 'RUNNING',
      parent?.id ?? null,
      parent !== undefined || resize !== undefined,
      kind,
      kind === 'evacuation'
        ? `what the instance wrote to its own disk since it was built: it is rebuilt from its image ${instance.imageRef}`
        : null,
      resize ? JSON.stringify(resize) : null,
    ],
  );
  if (!migration) throw new Error('insert into instance_migrations returned no row');
  await m.query(
    `UPDATE instances SET status = 'MIGRATING', task_state = 'migrating', updated_at = now() WHERE id = $1`,
    [instance.id],
  );
  const request = await requestSpecOf(m, instance.id);
  const job: MigrateInstanceJob = {
    v: CONTRACT_VERSION,
    migrationId: migration.id,
    operationId,
    instanceId: instance.id,
    sourceHostId: instance.hostId,
    requestedHost: host,
    request: resize
      ? {
          ...request,
          vcpus: resize.to.vcpus,
          ramMb: resize.to.ramMb,
          diskGb: resize.to.diskGb,
          cpuPolicy: resize.to.cpuPolicy,
          pidsLimit: resize.to.throttles.pidsLimit,
        }
      : request,
  };
  await enqueue(m, {
    queue: PLACEMENT_QUEUE,
    name: MIGRATE_INSTANCE,
    jobId: jobId(operationId, 'migrate'),
    payload: job,
  });
}

async function setMigrationStatus(m: EntityManager, id: string, status: MigrationStatus): Promise<void> {
  await m.query('UPDATE instance_migrations SET status = $2, updated_at = now() WHERE id = $1', [id, status]);
}

/** The instance as its target reported it: there, on the target's CPUs, with what it read back. */
async function landOnTarget(
  m: EntityManager,
  mig: MigrationRow,
  report: MigrationReport,
  status: InstanceStatus,
  taskState: 'confirming' | null,
): Promise<void> {
  await m.query(
    `UPDATE instances SET status = $2, task_state = $3, host_id = $4, pinned_cpus = $5, power_state = $6,
            applied_limits = $7::jsonb, fault = NULL, updated_at = now()
      WHERE id = $1`,
    [
      mig.instanceId,
      status,
      taskState,
      mig.targetHostId,
      mig.targetPinnedCpus,
      report.powerState,
      JSON.stringify(report.applied ?? null),
    ],
  );
}

/** Writes a flavor size onto the instance row (a cold resize landing, or undone). */
async function setSize(m: EntityManager, instanceId: string, size: FlavorSize): Promise<void> {
  await m.query(
    `UPDATE instances SET flavor_id = $2, flavor_name = $3, vcpus = $4, ram_mb = $5, disk_gb = $6, cpu_policy = $7,
            throttles = $8, limit_bounds = $9, updated_at = now()
      WHERE id = $1`,
    [
      instanceId,
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

function recordOf(r: MigrationRow): MigrationRecord {
  const {
    sourceHostId: _s,
    targetHostId: _t,
    targetPinnedCpus: _p,
    parentOperationId: _o,
    autoConfirm: _a,
    resize: _r,
    ...record
  } = r;
  return record;
}

function failedWithout(report: MigrationReport): Fault {
  return { step: report.command, message: 'the host reported a failure without a fault', at: report.at };
}

/** What the instance asks of a host, as a build did (Nova's RequestSpec), for choosing a target. */
async function requestSpecOf(m: EntityManager, instanceId: string): Promise<RequestSpec> {
  const spec = await one<RequestSpec>(
    m,
    `SELECT i.kind, i.project_id AS "projectId", i.cpu_policy AS "cpuPolicy", i.vcpus, i.ram_mb AS "ramMb",
            i.disk_gb AS "diskGb", (i.throttles->>'pidsLimit')::int AS "pidsLimit", i.zone, i.extra_specs AS "extraSpecs", n.vlan, i.image_ref AS "imageRef",
            i.server_group_id AS "serverGroupId", NULL AS "reservationId"
       FROM instances i JOIN ports p ON p.instance_id = i.id JOIN networks n ON n.id = p.network_id
      WHERE i.id = $1`,
    [instanceId],
  );
  if (!spec) throw new Error(`instance ${instanceId} has no port`);
  return spec;
}
