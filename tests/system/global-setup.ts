import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import mediumSetup from '../medium/global-setup';

/** System tests run the built processes: build them first (about a second), then reset the databases. */
export default async function globalSetup(): Promise<void> {
  execFileSync(process.execPath, [resolve(__dirname, '../../tools/build.mjs')], { stdio: 'ignore' });
  await mediumSetup();
}
