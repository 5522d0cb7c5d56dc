import dropTestDatabases from './global-setup';

/** After the run: drop the migrated template and any test database a failed test left. */
export default async function globalTeardown(): Promise<void> {
  await dropTestDatabases();
}
