import { Client } from 'pg';
import { adminDatabaseUrl, dropDatabase, TEMPLATE_DATABASE, TEST_DATABASE_PREFIX } from './settings';

/**
 * Once per jest run: drop the migrated template and any test databases a crashed run left behind.
 * The first test file that needs a database rebuilds the template (database.ts), so migrations run
 * once per run and every test file gets a fresh copy.
 */
export default async function globalSetup(): Promise<void> {
  const client = new Client({ connectionString: adminDatabaseUrl() });
  await client.connect();
  try {
    const stale = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2`,
      [TEMPLATE_DATABASE, `${TEST_DATABASE_PREFIX}%`],
    );
    for (const { datname } of stale.rows) await dropDatabase(client, datname);
  } finally {
    await client.end();
  }
}
