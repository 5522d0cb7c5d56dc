import { beginMigrationAction, conductMigration } from './migration-rules';

describe('beginMigrationAction', () => {
  it('migrates an idle ACTIVE or SHUTOFF instance, and nothing else', () => {
    expect(beginMigrationAction({ status: 'ACTIVE', taskState: null }, 'migrate')).toEqual({
      ok: true,
      taskState: 'migrating',
    });
    expect(beginMigrationAction({ status: 'SHUTOFF', taskState: null }, 'migrate')).toMatchObject({ ok: true });
    expect(beginMigrationAction({ status: 'ERROR', taskState: null }, 'migrate')).toMatchObject({ ok: false });
    expect(beginMigrationAction({ status: 'ACTIVE', taskState: 'rebooting' }, 'migrate')).toEqual({
      ok: false,
      reason: 'cannot migrate while the instance is rebooting',
    });
  });

  it('confirms or reverts only a migration awaiting verification', () => {
    expect(beginMigrationAction({ status: 'VERIFY_MIGRATION', taskState: null }, 'confirm')).toEqual({
      ok: true,
      taskState: 'confirming',
    });
    expect(beginMigrationAction({ status: 'VERIFY_MIGRATION', taskState: null }, 'revert')).toEqual({
      ok: true,
      taskState: 'reverting',
    });
    expect(beginMigrationAction({ status: 'ACTIVE', taskState: null }, 'confirm')).toEqual({
      ok: false,
      reason: 'cannot confirm: the instance has no migration awaiting verification',
    });
  });
});

describe('conductMigration', () => {
  it('walks snapshot -> fetch -> receive to verification', () => {
    expect(conductMigration('pre-migrating', 'migration.snapshot', true)).toMatchObject({
      kind: 'send',
      status: 'migrating',
      command: 'migration.fetch',
      to: 'target',
    });
    expect(conductMigration('migrating', 'migration.fetch', true)).toMatchObject({
      status: 'post-migrating',
      command: 'migration.receive',
    });
    expect(conductMigration('post-migrating', 'migration.receive', true)).toEqual({ kind: 'finished' });
  });

  it('reverts from each failed step: the target drops what it has (if touched), then the source takes it back', () => {
    expect(conductMigration('pre-migrating', 'migration.snapshot', false)).toEqual({
      kind: 'send',
      status: 'reverting',
      command: 'migration.restore',
      to: 'source',
      failed: true,
    });
    for (const [status, command] of [
      ['migrating', 'migration.fetch'],
      ['post-migrating', 'migration.receive'],
    ] as const) {
      expect(conductMigration(status, command, false)).toEqual({
        kind: 'send',
        status: 'reverting',
        command: 'migration.drop',
        to: 'target',
        failed: true,
      });
    }
    expect(conductMigration('reverting', 'migration.drop', false)).toMatchObject({ command: 'migration.restore' });
    expect(conductMigration('reverting', 'migration.restore', true)).toEqual({ kind: 'reverted' });
    expect(conductMigration('reverting', 'migration.restore', false)).toEqual({ kind: 'revert-failed' });
  });

  it('ignores a report the state does not wait for, as a repeat delivery', () => {
    expect(conductMigration('migrating', 'migration.snapshot', true)).toEqual({ kind: 'ignore' });
    expect(conductMigration('finished', 'migration.receive', true)).toEqual({ kind: 'ignore' });
    expect(conductMigration('confirmed', 'migration.drop', true)).toEqual({ kind: 'ignore' });
  });

  it('awaits no migration step for a resize on its own host (its set-limits command applies and undoes it)', () => {
    expect(conductMigration('finished', 'migration.drop', true, 'resize')).toEqual({ kind: 'ignore' });
    expect(conductMigration('confirming', 'migration.drop', true, 'resize')).toEqual({ kind: 'ignore' });
  });

  it('confirms by dropping the source', () => {
    expect(conductMigration('confirming', 'migration.drop', true)).toEqual({ kind: 'confirmed' });
    expect(conductMigration('confirming', 'migration.drop', false)).toEqual({ kind: 'confirm-failed' });
  });

  it('evacuates without the source: rebuild on the target, clean the old host when it is back', () => {
    expect(conductMigration('post-migrating', 'migration.receive', true, 'evacuation')).toEqual({ kind: 'evacuated' });
    expect(conductMigration('post-migrating', 'migration.receive', false, 'evacuation')).toMatchObject({
      command: 'migration.drop',
      to: 'target',
      failed: true,
    });
    expect(conductMigration('reverting', 'migration.drop', true, 'evacuation')).toEqual({ kind: 'evacuation-failed' });
    expect(conductMigration('cleaning', 'migration.drop', true, 'evacuation')).toEqual({ kind: 'cleaned' });
    expect(conductMigration('cleaning', 'migration.drop', false, 'evacuation')).toEqual({ kind: 'clean-failed' });
    expect(conductMigration('pre-migrating', 'migration.snapshot', true, 'evacuation')).toEqual({ kind: 'ignore' });
  });
});
