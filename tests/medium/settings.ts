/** Where the medium and system tiers find PostgreSQL and Redis; deploy/test.sh sets these. */
// A relative path, not @berth/data/testing: jest's global set-up loads this file without the module name mapper.
import { TEST_DATABASE_PREFIX } from '../../libs/data/src/testing/fresh-database';

export {
  adminDatabaseUrl,
  databaseUrl,
  dropDatabase,
  TEST_DATABASE_PREFIX,
  templateDatabase,
  testDatabaseName,
  testRun,
} from '../../libs/data/src/testing/fresh-database';

/** The run a test database belongs to, or null for a name of no run (made before runs were named). */
export function runOfDatabase(name: string): string | null {
  return new RegExp(`^${TEST_DATABASE_PREFIX}(\\d+)_`).exec(name)?.[1] ?? null;
}

export function testRedisUrl(): string {
  return process.env['BERTH_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
}
