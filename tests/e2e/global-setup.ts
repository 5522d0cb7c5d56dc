import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import systemSetup from '../system/global-setup';

/** The end-to-end tier drives the built stack and the built console: both are built first, then the databases reset. */
export default async function globalSetup(): Promise<void> {
  await systemSetup();
  // The production build, as deploy/ makes it (jest sets NODE_ENV=test, which would bundle React's development build).
  execFileSync('npm', ['run', '-s', 'build:web'], {
    cwd: resolve(__dirname, '../..'),
    stdio: 'ignore',
    env: { ...process.env, NODE_ENV: 'production' },
  });
}
