import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { migrate } from '../../apps/api/src/migrate';
import { adminDatabaseUrl, databaseUrl, dropDatabase, TEMPLATE_DATABASE, TEST_DATABASE_PREFIX } from './settings';

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function withAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminDatabaseUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A new database cloned from the migrated template (built by the first caller of the run). */
export async function freshDatabase(): Promise<TestDatabase> {
  const name = `${TEST_DATABASE_PREFIX}${randomBytes(6).toString('hex')}`;
  await withAdmin(async (client) => {
    await client.query(`SELECT pg_advisory_lock(hashtext('berth.test-template'))`);
    try {
      const exists = await client.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [TEMPLATE_DATABASE]);
      if (exists.rowCount === 0) {
        await client.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
        await migrate(databaseUrl(TEMPLATE_DATABASE));
      }
      await client.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE}`);
    } finally {
      await client.query(`SELECT pg_advisory_unlock(hashtext('berth.test-template'))`);
    }
  });
  return {
    name,
    url: databaseUrl(name),
    drop: () => withAdmin((client) => dropDatabase(client, name)),
  };
}
