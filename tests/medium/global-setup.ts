import { Client } from 'pg';
import { adminDatabaseUrl, dropDatabase, runOfDatabase, TEST_DATABASE_PREFIX, testRun } from './settings';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Once per jest run, before and after it: drop this run's test databases (the migrated template among them)
 * and those of runs that have ended (a crashed run's). A run going on beside this one, from another
 * checkout, keeps its own. The first test file that needs a database rebuilds the template (database.ts),
 * so migrations run once per run and every test file gets a fresh copy.
 */
export default async function globalSetup(): Promise<void> {
  const own = testRun();
  const client = new Client({ connectionString: adminDatabaseUrl() });
  await client.connect();
  try {
    const found = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [
      `${TEST_DATABASE_PREFIX}%`,
    ]);
    for (const { datname } of found.rows) {
      const run = runOfDatabase(datname);
      if (run === null || run === own || !alive(Number(run))) await dropDatabase(client, datname);
    }
  } finally {
    await client.end();
  }
}
