import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../data-source';

/*
 * Test databases on the test PostgreSQL (BERTH_TEST_DATABASE_URL), for the medium tier: the API's tests and
 * the tests beside this library's modules. Each is a clone of one migrated template per jest run, named
 * berth_test_<run>_..., so that a run drops only its own and those of runs that have ended, never those of a
 * run from another checkout going on beside it (tests/medium/global-setup.ts).
 */

export const TEST_DATABASE_PREFIX = 'berth_test_';

/** The jest run this process belongs to: its main process's pid, which the global set-up hands its workers. */
export function testRun(): string {
  const run = process.env['BERTH_TEST_RUN'];
  if (run) return run;
  process.env['BERTH_TEST_RUN'] = String(process.pid);
  return String(process.pid);
}

export const templateDatabase = () => `${TEST_DATABASE_PREFIX}${testRun()}_template`;
export const testDatabaseName = (suffix: string) => `${TEST_DATABASE_PREFIX}${testRun()}_${suffix}`;

export function adminDatabaseUrl(): string {
  return process.env['BERTH_TEST_DATABASE_URL'] ?? 'postgres://berth:berth@127.0.0.1:5432/postgres';
}

export function databaseUrl(name: string): string {
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;
  return url.toString();
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

/**
 * DROP DATABASE ... WITH (FORCE), retried while PostgreSQL refuses it for want of the right to end
 * another backend (42501): an autovacuum worker runs as the superuser, which the berth role may not
 * terminate, and it leaves within moments on its own.
 */
export async function dropDatabase(client: Client, name: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      return;
    } catch (error) {
      if (attempt >= 50 || (error as { code?: string }).code !== '42501') throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function migrate(url: string): Promise<void> {
  const dataSource = await createDataSource({ url, poolSize: 1, applicationName: 'berth-test-template' }).initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A new database cloned from the run's migrated template (built by the first caller of the run). */
export async function cloneTestDatabase(label?: string): Promise<TestDatabase> {
  const name = testDatabaseName(`${label ? `${label}_` : ''}${randomBytes(6).toString('hex')}`);
  const template = templateDatabase();
  await withAdmin(async (client) => {
    await client.query(`SELECT pg_advisory_lock(hashtext($1))`, [template]);
    try {
      const exists = await client.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [template]);
      if (exists.rowCount === 0) {
        await client.query(`CREATE DATABASE ${template}`);
        await migrate(databaseUrl(template));
      }
      await client.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
    } finally {
      await client.query(`SELECT pg_advisory_unlock(hashtext($1))`, [template]);
    }
  });
  return { name, url: databaseUrl(name), drop: () => withAdmin((client) => dropDatabase(client, name)) };
}

export interface FreshDatabase {
  dataSource: DataSource;
  drop(): Promise<void>;
}

/** A test database of its own, connected: for the medium test beside a module of this library. */
export async function freshDatabase(label: string): Promise<FreshDatabase> {
  const database = await cloneTestDatabase(label);
  const dataSource = await createDataSource({ url: database.url, poolSize: 4, applicationName: label }).initialize();
  return {
    dataSource,
    drop: async () => {
      await dataSource.destroy();
      await database.drop();
    },
  };
}
