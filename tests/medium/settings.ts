/** Where the medium and system tiers find PostgreSQL and Redis; deploy/test.sh sets these. */
export const TEMPLATE_DATABASE = 'berth_test_template';
export const TEST_DATABASE_PREFIX = 'berth_test_';

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
