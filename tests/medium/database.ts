import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { migrateSchema } from '../../apps/api/src/migrate-schema';
import { adminDatabaseUrl, databaseUrl, dropDatabase, templateDatabase, testDatabaseName } from './settings';

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
  const name = testDatabaseName(randomBytes(6).toString('hex'));
  const template = templateDatabase();
  await withAdmin(async (client) => {
    await client.query(`SELECT pg_advisory_lock(hashtext($1))`, [template]);
    try {
      const exists = await client.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [template]);
      if (exists.rowCount === 0) {
        await client.query(`CREATE DATABASE ${template}`);
        await migrateSchema(databaseUrl(template));
      }
      await client.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
    } finally {
      await client.query(`SELECT pg_advisory_unlock(hashtext($1))`, [template]);
    }
  });
  return {
    name,
    url: databaseUrl(name),
    drop: () => withAdmin((client) => dropDatabase(client, name)),
  };
}
