import type { Fault } from '@berth/contracts';
import { finishSteps, lateStep, startStep, type OperationStep } from '@berth/domain';
import type { EntityManager } from 'typeorm';
import { one, rows } from '../sql';

/** Who asked: recorded on every operation (the audit trail). */
export interface Actor {
  projectId: string | null;
  userId: string | null;
  requestId: string | null;
}

export interface NewOperation {
  action: string;
  targetType: string;
  targetId: string | null;
  /** Synchronous requests are recorded already finished. */
  finished?: boolean;
  /** A finished request's steps, as they went. */
  steps?: OperationStep[];
  /** A finished request that failed: why. */
  fault?: Fault | null;
}

export async function insertOperation(manager: EntityManager, actor: Actor, op: NewOperation): Promise<string> {
  const row = await one<{ id: string }>(
    manager,
    `INSERT INTO operations (request_id, project_id, user_id, action, target_type, target_id, status, finished_at, steps,
                             fault)
     VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $7 <> 'running' THEN now() END, $8, $9) RETURNING id`,
    [
      actor.requestId,
      actor.projectId,
      actor.userId,
      op.action,
      op.targetType,
      op.targetId,
      op.fault ? 'failed' : op.finished ? 'succeeded' : 'running',
      JSON.stringify(op.steps ?? []),
      op.fault ? JSON.stringify(op.fault) : null,
    ],
  );
  if (!row) throw new Error('insert into operations returned no row');
  return row.id;
}

async function lockSteps(manager: EntityManager, id: string): Promise<OperationStep[] | null> {
  const row = await one<{ steps: OperationStep[] }>(
    manager,
    `SELECT steps FROM operations WHERE id = $1 AND status = 'running' FOR UPDATE`,
    [id],
  );
  return row?.steps ?? null;
}

/**
 * A step started (reported by a host or the scheduler). Reports are applied in parallel, so one may
 * come after the result that finished its operation: it is still recorded, as a finished step.
 */
export async function recordStep(
  manager: EntityManager,
  id: string,
  step: string,
  at: string,
  detail?: string,
): Promise<void> {
  const op = await one<{ steps: OperationStep[]; status: string; finishedAt: Date | null; fault: Fault | null }>(
    manager,
    `SELECT steps, status, finished_at AS "finishedAt", fault FROM operations WHERE id = $1 FOR UPDATE`,
    [id],
  );
  if (!op) return;
  const steps =
    op.status === 'running'
      ? startStep(op.steps, step, at, detail)
      : lateStep(
          op.steps,
          step,
          at,
          {
            at: (op.finishedAt ?? new Date()).toISOString(),
            outcome: op.status === 'failed' ? 'failed' : 'succeeded',
            failedStep: op.fault?.step,
          },
          detail,
        );
  await manager.query(`UPDATE operations SET steps = $2, updated_at = now() WHERE id = $1`, [
    id,
    JSON.stringify(steps),
  ]);
}

/** Names what an operation acted on once it is known (an enrollment's host joins at its end). */
export async function setOperationTarget(manager: EntityManager, id: string, targetId: string): Promise<void> {
  await manager.query('UPDATE operations SET target_id = $2 WHERE id = $1', [id, targetId]);
}

/** Ends a running operation; a second call (a redelivered report) changes nothing. */
export async function finishOperation(manager: EntityManager, id: string, fault: Fault | null): Promise<void> {
  const steps = await lockSteps(manager, id);
  if (!steps) return;
  const at = fault?.at ?? new Date().toISOString();
  const finished = finishSteps(steps, fault ? 'failed' : 'succeeded', at, fault?.step);
  await manager.query(
    `UPDATE operations SET status = $2, steps = $3, fault = $4, finished_at = $5, updated_at = $5 WHERE id = $1`,
    [id, fault ? 'failed' : 'succeeded', JSON.stringify(finished), fault ? JSON.stringify(fault) : null, at],
  );
}

/**
 * Ends one named step of a multi-part operation (a drain's step per instance) and, once no step is
 * pending or running, the operation itself: failed, naming the failed steps, if any failed.
 */
export async function finishPart(
  manager: EntityManager,
  id: string,
  name: string,
  outcome: { ok: boolean; detail: string; at: string },
): Promise<void> {
  const steps = await lockSteps(manager, id);
  if (!steps) return;
  const next = steps.map((s) =>
    s.name === name && (s.status === 'pending' || s.status === 'running')
      ? {
          ...s,
          status: outcome.ok ? ('succeeded' as const) : ('failed' as const),
          finishedAt: outcome.at,
          detail: outcome.detail,
        }
      : s,
  );
  await manager.query(`UPDATE operations SET steps = $2, updated_at = now() WHERE id = $1`, [id, JSON.stringify(next)]);
  if (next.some((s) => s.status === 'pending' || s.status === 'running')) return;
  const failed = next.filter((s) => s.status === 'failed');
  const fault: Fault | null =
    failed.length === 0
      ? null
      : {
          step: failed[0]?.name ?? name,
          message: `${failed.length} of ${next.length} did not complete: ${failed.map((s) => `${s.name}: ${s.detail ?? 'failed'}`).join('; ')}`,
          at: outcome.at,
        };
  await manager.query(
    `UPDATE operations SET status = $2, fault = $3, finished_at = $4, updated_at = $4 WHERE id = $1`,
    [id, fault ? 'failed' : 'succeeded', fault ? JSON.stringify(fault) : null, outcome.at],
  );
}

/** Adds steps in state pending (the parts of an operation that run side by side). */
export async function addPendingSteps(manager: EntityManager, id: string, names: string[], at: string): Promise<void> {
  const steps = (await lockSteps(manager, id)) ?? [];
  const added = names.map((name) => ({ name, status: 'pending' as const, startedAt: at }));
  await manager.query(`UPDATE operations SET steps = $2, updated_at = now() WHERE id = $1`, [
    id,
    JSON.stringify([...steps, ...added]),
  ]);
}

/**
 * Ends a pre-warm's step `pull <host>` (failed with `error`, if any); the operation finishes once every host has
 * answered, failed if any pull did, naming each.
 */
export async function finishPullStep(
  manager: EntityManager,
  id: string,
  host: string,
  error: string | undefined,
  at: string,
): Promise<void> {
  const op = await one<{ steps: OperationStep[] }>(
    manager,
    `SELECT steps FROM operations WHERE id = $1 AND status = 'running' FOR UPDATE`,
    [id],
  );
  if (!op) return;
  const name = `pull ${host}`;
  const steps = op.steps.map((s) =>
    s.name === name && (s.status === 'pending' || s.status === 'running')
      ? {
          ...s,
          status: error ? ('failed' as const) : ('succeeded' as const),
          finishedAt: at,
          ...(error ? { detail: error } : {}),
        }
      : s,
  );
  const open = steps.some((s) => s.status === 'pending' || s.status === 'running');
  const failed = steps.filter((s) => s.status === 'failed');
  const fault = failed.length
    ? { step: 'pull', message: failed.map((s) => `${s.name}: ${s.detail ?? 'failed'}`).join('; '), at }
    : null;
  await manager.query(
    `UPDATE operations SET steps = $2, updated_at = now(),
            status = CASE WHEN $3 THEN status ELSE $4 END,
            fault = CASE WHEN $3 THEN fault ELSE $5::jsonb END,
            finished_at = CASE WHEN $3 THEN finished_at ELSE now() END
      WHERE id = $1`,
    [id, JSON.stringify(steps), open, fault ? 'failed' : 'succeeded', fault ? JSON.stringify(fault) : null],
  );
}

/** The running step of a running operation fails with the host's fault (the operation goes on: a reschedule). */
export async function failRunningStep(manager: EntityManager, id: string, fault: Fault, host: string): Promise<void> {
  const op = await one<{ steps: OperationStep[] }>(
    manager,
    `SELECT steps FROM operations WHERE id = $1 AND status = 'running' FOR UPDATE`,
    [id],
  );
  if (!op) return;
  const steps = finishSteps(op.steps, 'failed', fault.at, fault.step).map((s) =>
    s.status === 'failed' && s.finishedAt === fault.at ? { ...s, detail: `${host}: ${fault.message}` } : s,
  );
  await manager.query('UPDATE operations SET steps = $2, updated_at = now() WHERE id = $1', [
    id,
    JSON.stringify(steps),
  ]);
}

/** The instance's newest running operation, if any. */
export async function runningOperationOf(manager: EntityManager, instanceId: string): Promise<string | null> {
  const running = await one<{ id: string }>(
    manager,
    `SELECT id FROM operations WHERE target_type = 'instance' AND target_id = $1 AND status = 'running'
      ORDER BY started_at DESC LIMIT 1`,
    [instanceId],
  );
  return running?.id ?? null;
}

/** A running operation that has not changed for a while: what the watchdog gives up. */
export interface StaleOperation {
  id: string;
  action: string;
  targetType: string;
  targetId: string | null;
  idleSec: number;
  steps: OperationStep[];
}

/** Running operations unchanged for `timeoutSec` or more, the stalest first. */
export function staleOperations(manager: EntityManager, timeoutSec: number): Promise<StaleOperation[]> {
  return rows<StaleOperation>(
    manager,
    `SELECT id, action, target_type AS "targetType", target_id AS "targetId", steps,
            floor(extract(epoch FROM now() - updated_at))::int AS "idleSec"
       FROM operations
      WHERE status = 'running' AND updated_at < now() - make_interval(secs => $1)
      ORDER BY updated_at LIMIT 100`,
    [timeoutSec],
  );
}

/** An operation as the audit trail shows it. */
export interface OperationRow {
  id: string;
  requestId: string | null;
  projectId: string | null;
  userId: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  status: 'running' | 'succeeded' | 'failed';
  steps: OperationStep[];
  fault: Fault | null;
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

const OPERATION_ROW_SQL = `
  SELECT id, request_id AS "requestId", project_id AS "projectId", user_id AS "userId", action, target_type AS "targetType",
         target_id AS "targetId", status, steps, fault, started_at AS "startedAt", updated_at AS "updatedAt",
         finished_at AS "finishedAt"
    FROM operations`;

/** What the audit trail is filtered by; null or absent: any. */
export interface OperationFilter {
  projectId: string | null;
  userId?: string | null | undefined;
  action?: string | null | undefined;
  targetId?: string | null | undefined;
  status?: string | null | undefined;
  since?: string | null | undefined;
  until?: string | null | undefined;
}

/** Operations newest first, `limit` of them after the operation `afterId` (keyset pagination). */
export function operationRows(
  manager: EntityManager,
  filter: OperationFilter,
  page: { limit: number; afterId: string | null },
): Promise<OperationRow[]> {
  return rows<OperationRow>(
    manager,
    `${OPERATION_ROW_SQL}
      WHERE ($1::uuid IS NULL OR project_id = $1) AND ($2::uuid IS NULL OR user_id = $2)
        AND ($3::text IS NULL OR action = $3) AND ($4::uuid IS NULL OR target_id = $4)
        AND ($5::text IS NULL OR status = $5) AND ($6::timestamptz IS NULL OR started_at >= $6)
        AND ($7::timestamptz IS NULL OR started_at < $7)
        AND ($8::uuid IS NULL OR (started_at, id) < (SELECT started_at, id FROM operations WHERE id = $8))
      ORDER BY started_at DESC, id DESC LIMIT $9`,
    [
      filter.projectId,
      filter.userId ?? null,
      filter.action ?? null,
      filter.targetId ?? null,
      filter.status ?? null,
      filter.since ?? null,
      filter.until ?? null,
      page.afterId,
      page.limit,
    ],
  );
}

/** One operation, within `projectId` (null: any). */
export function operationRow(
  manager: EntityManager,
  id: string,
  projectId: string | null,
): Promise<OperationRow | null> {
  return one<OperationRow>(manager, `${OPERATION_ROW_SQL} WHERE id = $1 AND ($2::uuid IS NULL OR project_id = $2)`, [
    id,
    projectId,
  ]);
}
