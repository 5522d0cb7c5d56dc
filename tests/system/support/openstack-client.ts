import { execFile } from 'node:child_process';
import type { TestStack } from './stack';

// Debian's real, unmodified `openstack` client (python3-openstackclient 6.0.0), run against a test stack.

export interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs a program with its argv (no shell), its stdin empty; never rejects: the exit code and both outputs. */
export function run(
  file: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  return new Promise((done) => {
    const child = execFile(
      file,
      args,
      { ...options, maxBuffer: 16 * 1024 * 1024, timeout: 600_000 },
      (error, out, err) => {
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out, err });
      },
    );
    // An empty stdin, as from </dev/null: `openstack image create` reads a stdin that is no terminal as image data.
    child.stdin?.end();
  });
}

/** The client's settings for `stack`, with `auth` (see adminAuth), keeping its cache in `home`. */
export function openstackEnv(stack: TestStack, home: string, auth: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    HOME: home,
    OS_AUTH_URL: `${stack.url}/identity/v3`,
    OS_IDENTITY_API_VERSION: '3',
    OS_PROJECT_DOMAIN_NAME: 'Default',
    ...auth,
  };
}

/** The cloud admin: the stack's bootstrap token, scoped to the admin project. */
export const adminAuth = (stack: TestStack) => ({
  OS_AUTH_TYPE: 'v3token',
  OS_TOKEN: stack.token,
  OS_PROJECT_NAME: 'admin',
});

/** `openstack args` with `env`: what it printed, or an error with its stderr when it exits non-zero. */
export async function openstack(env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
  const res = await run('openstack', args, { env });
  if (res.code !== 0) throw new Error(`openstack ${args.join(' ')} exited ${res.code}: ${res.err}`);
  return res.out;
}
