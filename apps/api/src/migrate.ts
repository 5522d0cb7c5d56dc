import 'reflect-metadata';
import { createDataSource } from '@berth/db';
import { ControlPlaneEnv, createLogger, loadEnv, runMain } from '@berth/platform';

/** Brings the database schema up to date (`node dist/apps/api/src/migrate.js`). Safe to repeat. */
export async function migrate(databaseUrl: string): Promise<string[]> {
  const dataSource = await createDataSource({
    url: databaseUrl,
    poolSize: 1,
    applicationName: 'berth-migrate',
  }).initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await dataSource.destroy();
  }
}

if (require.main === module) {
  runMain('migrate', async () => {
    const log = createLogger('migrate');
    const applied = await migrate(loadEnv(ControlPlaneEnv).BERTH_DATABASE_URL);
    log.info({ applied }, applied.length ? 'migrations applied' : 'schema is up to date');
    process.exit(0);
  });
}
