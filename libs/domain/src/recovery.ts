import type { ComputeCommandType, MigrationCommandType, MigrationKind, MigrationStatus } from '@berth/contracts';
import type { TaskState } from './instance-states';

/**
 * What becomes of a task a host was running when its agent died, decided when the agent starts
 * again (Nova's _init_instance). Every host command is idempotent, so a task the host can still
 * finish is sent again; a build is finished only if it got as far as a running, plugged instance
 * (the host checks), and is otherwise cleaned up and failed. Tasks that are not the host's (no
 * host yet, or a migration step awaited on the other host) are left alone.
 */
export type TaskRecovery =
  /** Send the command again under the same operation; `recovery` marks a build to finish-or-fail. */
  | { kind: 'resend'; command: ComputeCommandType; recovery: boolean }
  /** The instance's migration record decides (see recoverMigration). */
  | { kind: 'migration' }
  | { kind: 'none' };

export function recoverTask(taskState: TaskState): TaskRecovery {
  switch (taskState) {
    case 'spawning':
      return { kind: 'resend', command: 'instance.create', recovery: true };
    case 'deleting':
      return { kind: 'resend', command: 'instance.delete', recovery: false };
    case 'powering-on':
      return { kind: 'resend', command: 'instance.start', recovery: false };
    case 'powering-off':
      return { kind: 'resend', command: 'instance.stop', recovery: false };
    case 'rebooting':
      return { kind: 'resend', command: 'instance.reboot', recovery: false };
    case 'resizing':
      return { kind: 'resend', command: 'instance.set-limits', recovery: false };
    case 'image-snapshot':
      // Sent again without its image, the host refuses it: the snapshot fails and the instance is as it was.
      return { kind: 'resend', command: 'instance.snapshot', recovery: false };
    case 'migrating':
    case 'confirming':
    case 'reverting':
      return { kind: 'migration' };
    case 'scheduling':
      return { kind: 'none' };
  }
}

/** Statuses in which a migration awaits a host. */
export const ACTIVE_MIGRATION: readonly MigrationStatus[] = [
  'pre-migrating',
  'migrating',
  'post-migrating',
  'confirming',
  'reverting',
  'cleaning',
];

/** The migration steps that move an instance forward; the others undo or finish a move. */
const FORWARD: readonly MigrationCommandType[] = ['migration.snapshot', 'migration.fetch', 'migration.receive'];

export type MigrationRecovery =
  /** Treat the awaited step as failed: the conductor reverts (a forward step) or gives up (the rest). */
  | { kind: 'fail'; command: MigrationCommandType }
  /** Send the awaited step again: undoing and cleaning up are idempotent and must complete. */
  | { kind: 'resend'; command: MigrationCommandType }
  | { kind: 'none' };

/**
 * A migration whose host `role` restarted: only the step awaited on that host is affected. An
 * interrupted forward step reverts the move (the instance goes back to its source as it was); an
 * interrupted revert, confirm or clean-up is sent again.
 */
export function recoverMigration(
  migration: {
    status: MigrationStatus;
    kind: MigrationKind;
    pendingCommand: MigrationCommandType | null;
    pendingOn: 'source' | 'target' | null;
  },
  role: 'source' | 'target',
): MigrationRecovery {
  const { pendingCommand, pendingOn } = migration;
  if (!pendingCommand || pendingOn !== role || !ACTIVE_MIGRATION.includes(migration.status)) return { kind: 'none' };
  return FORWARD.includes(pendingCommand)
    ? { kind: 'fail', command: pendingCommand }
    : { kind: 'resend', command: pendingCommand };
}
