import 'reflect-metadata';
import { createDataSource } from '@berth/data';
import { ControlPlaneEnv, createLogger, loadEnv, runMain } from '@berth/platform';

/** Brings the database schema up to date (`node dist/apps/api/src/migrate-schema.js`). Safe to repeat. */
export async function migrateSchema(databaseUrl: string): Promise<string[]> {
  const dataSource = await createDataSource({
    url: databaseUrl,
    poolSize: 1,
    applicationName: 'berth-migrate-schema',
  }).initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await dataSource.destroy();
  }
}

if (require.main === module) {
  runMain('migrate-schema', async () => {
    const log = createLogger('migrate-schema');
    const applied = await migrateSchema(loadEnv(ControlPlaneEnv).BERTH_DATABASE_URL);
    log.info({ applied }, applied.length ? 'schema migrations applied' : 'schema is up to date');
    process.exit(0);
  });
}
