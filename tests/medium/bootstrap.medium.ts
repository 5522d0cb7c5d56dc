import { createDataSource } from '@berth/data';
import { createLogger } from '@berth/platform';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { bootstrapAdmin } from '../../apps/api/src/auth/bootstrap-admin';
import { hashToken } from '@berth/control';
import { freshDatabase, type TestDatabase } from './database';

describe('bootstrap admin and migrations (real PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  const log = createLogger('test', 'silent');

  beforeAll(async () => {
    db = await freshDatabase();
    dataSource = await createDataSource({ url: db.url, poolSize: 2, applicationName: 'test' }).initialize();
  });
  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  it('generates the admin token once, into a 0600 file, and stores only its hash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-bootstrap-'));
    // The token file is a secret: it goes with the test, whatever the test finds.
    try {
      const tokenFile = join(dir, 'state', 'admin-token');
      await bootstrapAdmin(dataSource, { tokenFile }, log);
      const token = readFileSync(tokenFile, 'utf8').trim();
      expect(token).toMatch(/^berth_[A-Za-z0-9_-]{43}$/);
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      const rows = await dataSource.query<Array<{ role: string; matches: boolean }>>(
        `SELECT role, secret_hash = $1 AS matches FROM tokens`,
        [hashToken(token)],
      );
      expect(rows).toEqual([{ role: 'admin', matches: true }]);

      await bootstrapAdmin(dataSource, { tokenFile }, log);
      expect(readFileSync(tokenFile, 'utf8').trim()).toBe(token);
      expect(await dataSource.query('SELECT count(*)::int AS n FROM tokens')).toEqual([{ n: 1 }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes a given token as the admin token', async () => {
    const token = `berth_${'g'.repeat(43)}`;
    await bootstrapAdmin(dataSource, { token, tokenFile: '/nonexistent/never-written' }, log);
    const rows = await dataSource.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM tokens WHERE secret_hash = $1`,
      [hashToken(token)],
    );
    expect(rows).toEqual([{ n: 1 }]);
  });

  it('migrates down to an empty schema and up again', async () => {
    const tables = async () =>
      (
        await dataSource.query<Array<{ name: string }>>(
          `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations' ORDER BY 1`,
        )
      ).map((t) => t.name);
    const before = await tables();
    expect(before).toContain('instances');
    while ((await dataSource.query<unknown[]>('SELECT 1 FROM migrations')).length > 0)
      await dataSource.undoLastMigration();
    expect(await tables()).toEqual([]);
    await dataSource.runMigrations();
    expect(await tables()).toEqual(before);
  });

  it('gives a database migrated by the first volumes migration the attachment columns it lacked', async () => {
    const columns = async () =>
      (
        await dataSource.query<Array<{ name: string }>>(
          `SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'volumes' ORDER BY 1`,
        )
      ).map((c) => c.name);
    const whole = await columns();
    // Back to Volumes1766400000000, then as its first version left the table: no attachment.
    for (;;) {
      const [last] = await dataSource.query<Array<{ name: string }>>(
        'SELECT name FROM migrations ORDER BY id DESC LIMIT 1',
      );
      if (!last || last.name === 'Volumes1766400000000') break;
      await dataSource.undoLastMigration();
    }
    await dataSource.query(`
      DROP INDEX volumes_one_per_path, volumes_by_instance;
      ALTER TABLE volumes DROP COLUMN instance_id CASCADE, DROP COLUMN attach_path, DROP COLUMN serial;
      CREATE TRIGGER volume_changed AFTER UPDATE ON volumes FOR EACH ROW WHEN (
          OLD.status IS DISTINCT FROM NEW.status OR OLD.size_gb IS DISTINCT FROM NEW.size_gb
          OR OLD.host_id IS DISTINCT FROM NEW.host_id OR OLD.name IS DISTINCT FROM NEW.name)
        EXECUTE FUNCTION berth_volume_event();`);
    expect(await columns()).not.toContain('attach_path');
    await dataSource.runMigrations();
    expect(await columns()).toEqual(whole);
    const indexes = await dataSource.query<Array<{ name: string }>>(
      `SELECT indexname AS name FROM pg_indexes WHERE tablename = 'volumes' ORDER BY 1`,
    );
    expect(indexes.map((i) => i.name)).toEqual(expect.arrayContaining(['volumes_by_instance', 'volumes_one_per_path']));
    // A change of instance is an event again.
    const [trigger] = await dataSource.query<Array<{ def: string }>>(
      `SELECT pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgname = 'volume_changed'`,
    );
    expect(trigger?.def).toContain('instance_id');
  });
});
