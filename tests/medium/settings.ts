import type { Client } from 'pg';
/** Where the medium and system tiers find PostgreSQL and Redis; deploy/test.sh sets these. */
export const TEST_DATABASE_PREFIX = 'berth_test_';

/**
 * The jest run this process belongs to: its main process's pid, which the global set-up hands its workers.
 * Test databases carry it (berth_test_<run>_...), so that a run drops only its own and those of runs that
 * have ended, never those of a run from another checkout going on beside it.
 */
export function testRun(): string {
  const run = process.env['BERTH_TEST_RUN'];
  if (run) return run;
  process.env['BERTH_TEST_RUN'] = String(process.pid);
  return String(process.pid);
}

export const templateDatabase = () => `${TEST_DATABASE_PREFIX}${testRun()}_template`;
export const testDatabaseName = (suffix: string) => `${TEST_DATABASE_PREFIX}${testRun()}_${suffix}`;

/** The run a test database belongs to, or null for a name of no run (made before runs were named). */
export function runOfDatabase(name: string): string | null {
  return new RegExp(`^${TEST_DATABASE_PREFIX}(\\d+)_`).exec(name)?.[1] ?? null;
}

export function adminDatabaseUrl(): string {
  return process.env['BERTH_TEST_DATABASE_URL'] ?? 'postgres://berth:berth@127.0.0.1:5432/postgres';
}

export function testRedisUrl(): string {
  return process.env['BERTH_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
}

export function databaseUrl(name: string): string {
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;
  return url.toString();
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
