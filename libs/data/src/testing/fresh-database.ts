import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../data-source';

/*
 * For the medium tests beside this library's modules: a database of their own on the test PostgreSQL
 * (BERTH_TEST_DATABASE_URL), the schema migrated, dropped after. Named as the medium tier's are
 * (berth_test_<run>_...), so that the tier's clean-up knows it.
 */

const adminUrl = () => process.env['BERTH_TEST_DATABASE_URL'] ?? 'postgres://berth:berth@127.0.0.1:5432/postgres';

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface FreshDatabase {
  dataSource: DataSource;
  drop(): Promise<void>;
}

export async function freshDatabase(label: string): Promise<FreshDatabase> {
  const run = process.env['BERTH_TEST_RUN'] ?? String(process.pid);
  const name = `berth_test_${run}_${label}_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  const dataSource = await createDataSource({ url: url.toString(), poolSize: 4, applicationName: label }).initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  return {
    dataSource,
    drop: async () => {
      await dataSource.destroy();
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
