import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** Starts a built process with `env` and returns how it ended. */
function boot(script: string, env: Record<string, string>) {
  const result = spawnSync(process.execPath, [resolve(ROOT, 'dist/apps', script)], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status, stderr: result.stderr };
}

describe('configuration is validated at boot', () => {
  it.each([
    ['api/src/main.js', { BERTH_DATABASE_URL: 'postgres://x@127.0.0.1/x', BERTH_API_PORT: 'eighty' }, 'BERTH_API_PORT'],
    ['api/src/main.js', { BERTH_DATABASE_URL: 'mysql://x' }, 'BERTH_DATABASE_URL'],
    ['api/src/main.js', { BERTH_DATABASE_URL: 'postgres://x', BERTH_ADMIN_TOKEN: 'short' }, 'BERTH_ADMIN_TOKEN'],
    [
      'scheduler/src/main.js',
      { BERTH_DATABASE_URL: 'postgres://x', BERTH_CPU_ALLOCATION_RATIO: '-1' },
      'BERTH_CPU_ALLOCATION_RATIO',
    ],
    ['scheduler/src/main.js', {}, 'BERTH_DATABASE_URL'],
    ['compute-agent/src/main.js', { BERTH_HOST_NAME: 'Bad_Name' }, 'BERTH_HOST_NAME'],
    ['compute-agent/src/main.js', { BERTH_DRIVERS: 'docker,xen' }, 'BERTH_DRIVERS'],
    ['compute-agent/src/main.js', { BERTH_REDIS_URL: 'localhost:6379' }, 'BERTH_REDIS_URL'],
  ])('%s with %j stops with exit 2, naming %s', (script, env, variable) => {
    const { status, stderr } = boot(script, env);
    expect(status).toBe(2);
    expect(stderr).toContain('invalid configuration');
    expect(stderr).toMatch(new RegExp(`^\\s+${variable}: `, 'm'));
  });
});
