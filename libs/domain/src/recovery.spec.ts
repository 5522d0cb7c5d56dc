import { TASK_STATES } from './instance-states';
import { recoverMigration, recoverTask } from './recovery';

describe('recoverTask', () => {
  it('sends every host task again, a build as finish-or-fail', () => {
    expect(recoverTask('spawning')).toEqual({ kind: 'resend', command: 'instance.create', recovery: true });
    expect(recoverTask('deleting')).toEqual({ kind: 'resend', command: 'instance.delete', recovery: false });
    expect(recoverTask('powering-on')).toEqual({ kind: 'resend', command: 'instance.start', recovery: false });
    expect(recoverTask('powering-off')).toEqual({ kind: 'resend', command: 'instance.stop', recovery: false });
    expect(recoverTask('rebooting')).toEqual({ kind: 'resend', command: 'instance.reboot', recovery: false });
    expect(recoverTask('resizing')).toEqual({ kind: 'resend', command: 'instance.set-limits', recovery: false });
  });

  it('leaves migrations to their record and a task with no host alone', () => {
    for (const t of ['migrating', 'confirming', 'reverting'] as const)
      expect(recoverTask(t)).toEqual({ kind: 'migration' });
    expect(recoverTask('scheduling')).toEqual({ kind: 'none' });
  });

  it('has an answer for every task state', () => {
    for (const t of TASK_STATES) expect(recoverTask(t).kind).toMatch(/resend|migration|none/);
  });
});

describe('recoverMigration', () => {
  const mig = (status: string, pendingCommand: string, pendingOn: 'source' | 'target') =>
    ({ status, kind: 'migration', pendingCommand, pendingOn }) as Parameters<typeof recoverMigration>[0];

  it('fails an interrupted forward step on the host that ran it, so the move reverts', () => {
    expect(recoverMigration(mig('pre-migrating', 'migration.snapshot', 'source'), 'source')).toEqual({
      kind: 'fail',
      command: 'migration.snapshot',
    });
    expect(recoverMigration(mig('migrating', 'migration.fetch', 'target'), 'target').kind).toBe('fail');
    expect(recoverMigration(mig('post-migrating', 'migration.receive', 'target'), 'target').kind).toBe('fail');
  });

  it('sends an interrupted undo or clean-up again', () => {
    expect(recoverMigration(mig('reverting', 'migration.drop', 'target'), 'target')).toEqual({
      kind: 'resend',
      command: 'migration.drop',
    });
    expect(recoverMigration(mig('reverting', 'migration.restore', 'source'), 'source').kind).toBe('resend');
    expect(recoverMigration(mig('confirming', 'migration.drop', 'source'), 'source').kind).toBe('resend');
  });

  it('ignores the other host of the move, and moves that await nothing', () => {
    expect(recoverMigration(mig('pre-migrating', 'migration.snapshot', 'source'), 'target').kind).toBe('none');
    expect(recoverMigration(mig('finished', 'migration.receive', 'target'), 'target').kind).toBe('none');
    expect(recoverMigration(mig('confirmed', 'migration.drop', 'source'), 'source').kind).toBe('none');
  });
});
