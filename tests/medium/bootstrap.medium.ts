import { createDataSource } from '@berth/data';
import { createLogger } from '@berth/platform';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
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
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'berth-')), 'state', 'admin-token');
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
});
