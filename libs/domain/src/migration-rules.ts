import type { MigrationCommandType, MigrationKind, MigrationStatus } from '@berth/contracts';
import type { InstanceStatus, TaskState } from './instance-states';

/** What an operator asks of a migration: start one, or end one that awaits verification. */
export const MIGRATION_ACTIONS = ['migrate', 'confirm', 'revert'] as const;
export type MigrationAction = (typeof MIGRATION_ACTIONS)[number];

export type MigrationCheck = { ok: true; taskState: TaskState } | { ok: false; reason: string };

/** Whether the instance may start or end a migration now, and the task it then holds. */
export function beginMigrationAction(
  current: { status: InstanceStatus; taskState: TaskState | null },
  action: MigrationAction,
): MigrationCheck {
  if (current.taskState !== null)
    return { ok: false, reason: `cannot ${action} while the instance is ${current.taskState}` };
  if (action === 'migrate') {
    return current.status === 'ACTIVE' || current.status === 'SHUTOFF'
      ? { ok: true, taskState: 'migrating' }
      : { ok: false, reason: `cannot migrate an instance in status ${current.status}` };
  }
  if (current.status !== 'VERIFY_MIGRATION') {
    return { ok: false, reason: `cannot ${action}: the instance has no migration awaiting verification` };
  }
  return { ok: true, taskState: action === 'confirm' ? 'confirming' : 'reverting' };
}

/** The conductor's next move after a host reported one step of a migration. */
export type MigrationMove =
  /** Send `command` to `to`; the migration is then in `status`. `failed`: this report started a revert. */
  | { kind: 'send'; status: MigrationStatus; command: MigrationCommandType; to: 'source' | 'target'; failed: boolean }
  /** On the target, awaiting verification (instance VERIFY_MIGRATION). */
  | { kind: 'finished' }
  /** The source is cleaned; the move is final. */
  | { kind: 'confirmed' }
  /** The confirm's clean-up of the source failed: the instance runs on the target, the source needs an operator. */
  | { kind: 'confirm-failed' }
  /** Back on the source as before. */
  | { kind: 'reverted' }
  /** The source could not take the instance back: ERROR, for an operator. */
  | { kind: 'revert-failed' }
  /** An evacuation rebuilt the instance on the target; the down source cleans up when it is back. */
  | { kind: 'evacuated' }
  /** An evacuation's rebuild failed and the target dropped it: ERROR, the instance still recorded on its down host. */
  | { kind: 'evacuation-failed' }
  /** The evacuated host, back, removed its stale copy: its claim goes. */
  | { kind: 'cleaned' }
  /** It could not: the next power sync from that host tries again. */
  | { kind: 'clean-failed' }
  /** A report this state does not wait for (delivered twice, or late): nothing changes. */
  | { kind: 'ignore' };

const IGNORE: MigrationMove = { kind: 'ignore' };

/**
 * The migration state machine, as a table: (state, reported command, success) -> next move. Each
 * command is awaited in exactly one state, so a report delivered twice finds the state moved on and
 * is ignored. A failure before the move is verified reverts: the target (if it was touched) drops
 * what it has, then the source takes the instance back.
 */
export function conductMigration(
  status: MigrationStatus,
  command: MigrationCommandType,
  succeeded: boolean,
  kind: MigrationKind = 'migration',
): MigrationMove {
  switch (kind) {
    case 'migration':
      return migrationMove(status, command, succeeded);
    case 'evacuation':
      return evacuationMove(status, command, succeeded);
    case 'resize':
      // Applied and undone by the instance's own set-limits command: no migration step is awaited.
      return IGNORE;
  }
}

const send = (
  status: MigrationStatus,
  command: MigrationCommandType,
  to: 'source' | 'target',
  failed = false,
): MigrationMove => ({ kind: 'send', status, command, to, failed });

function migrationMove(status: MigrationStatus, command: MigrationCommandType, ok: boolean): MigrationMove {
  switch (status) {
    case 'pre-migrating':
      if (command !== 'migration.snapshot') return IGNORE;
      return ok
        ? send('migrating', 'migration.fetch', 'target')
        : send('reverting', 'migration.restore', 'source', true);
    case 'migrating':
      if (command !== 'migration.fetch') return IGNORE;
      return ok
        ? send('post-migrating', 'migration.receive', 'target')
        : send('reverting', 'migration.drop', 'target', true);
    case 'post-migrating':
      if (command !== 'migration.receive') return IGNORE;
      return ok ? { kind: 'finished' } : send('reverting', 'migration.drop', 'target', true);
    case 'reverting':
      return revertMove(command, ok);
    case 'confirming':
      if (command !== 'migration.drop') return IGNORE;
      return ok ? { kind: 'confirmed' } : { kind: 'confirm-failed' };
    case 'queued':
    case 'finished':
    case 'confirmed':
    case 'reverted':
    case 'error':
    case 'evacuated':
    case 'cleaning':
      return IGNORE;
  }
}

/** A revert drops the target's copy (if the target was touched), then the source takes the instance back. */
function revertMove(command: MigrationCommandType, ok: boolean): MigrationMove {
  switch (command) {
    case 'migration.drop':
      // The source takes the instance back even if the target could not clean up: the instance comes first.
      return send('reverting', 'migration.restore', 'source');
    case 'migration.restore':
      return ok ? { kind: 'reverted' } : { kind: 'revert-failed' };
    case 'migration.snapshot':
    case 'migration.fetch':
    case 'migration.receive':
      return IGNORE;
  }
}

/** An evacuation's source is down: nothing is asked of it until it is back (cleaning). */
function evacuationMove(status: MigrationStatus, command: MigrationCommandType, ok: boolean): MigrationMove {
  switch (status) {
    case 'post-migrating':
      if (command !== 'migration.receive') return IGNORE;
      return ok ? { kind: 'evacuated' } : send('reverting', 'migration.drop', 'target', true);
    case 'reverting':
      return command === 'migration.drop' ? { kind: 'evacuation-failed' } : IGNORE;
    case 'cleaning':
      if (command !== 'migration.drop') return IGNORE;
      return ok ? { kind: 'cleaned' } : { kind: 'clean-failed' };
    case 'queued':
    case 'pre-migrating':
    case 'migrating':
    case 'finished':
    case 'confirming':
    case 'confirmed':
    case 'reverted':
    case 'error':
    case 'evacuated':
      return IGNORE;
  }
}
