/**
 * bench/openstack: what the OpenStack face adds. Interleaved in one run against the stack deploy/up.sh runs:
 * container creates to ACTIVE through Nova (POST /compute/v2.1/servers, then GET /compute/v2.1/servers/{id}) and
 * through /v1; server lists through Nova (GET /servers/detail) and through /v1 (GET /v1/instances) with instances
 * present; password logins through Keystone and through POST /v1/auth/tokens (the Argon2id check is most of them);
 * and, for a user's view, the `openstack` client's own `server list` wall time. Writes the figures to
 * docs/benchmarks.md.
 *
 *   BERTH_RATE_EXEMPT_ADMIN=true deploy/up.sh && . .berth/env && node dist/bench/openstack.js [creates] [lists]
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { api, assertStack, finished } from './support/api';
import { machineLine, writeSection } from './support/report';
import { median, percentile } from './support/stats';

const creates = Number(process.argv[2] ?? 10);
const lists = Number(process.argv[3] ?? 200);
const url = process.env['BERTH_URL'] ?? '';
const token = process.env['BERTH_TOKEN'] ?? '';
const PASSWORD = 'a long benchmark password';

const ms2 = (v: number) => `${v.toFixed(2)} ms`;

async function nova(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${url}/compute/v2.1${path}`, {
    method,
    headers: { 'x-auth-token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

const until = async (check: () => Promise<boolean>) => {
  while (!(await check())) await new Promise((r) => setTimeout(r, 5));
};

async function viaNova(i: number, ids: { image: string; flavor: string; network: string }): Promise<[number, string]> {
  const started = performance.now();
  const made = await nova('POST', '/servers', {
    server: { name: `os-bench-${i}`, imageRef: ids.image, flavorRef: ids.flavor, networks: [{ uuid: ids.network }] },
  });
  const id = made.server.id as string;
  await until(async () => {
    const status = (await nova('GET', `/servers/${id}`)).server.status as string;
    if (status === 'ERROR') throw new Error(`os-bench-${i} failed`);
    return status === 'ACTIVE';
  });
  return [performance.now() - started, id];
}

async function viaV1(i: number): Promise<[number, string]> {
  const started = performance.now();
  const made = await api('POST', '/v1/instances', {
    name: `v1-bench-${i}`,
    kind: 'container',
    flavor: 'm1.tiny',
    image: 'busybox',
    network: 'os-bench',
  });
  const id = made.instance.id as string;
  await until(async () => {
    const status = (await api('GET', `/v1/instances/${id}`)).status as string;
    if (status === 'ERROR') throw new Error(`v1-bench-${i} failed`);
    return status === 'ACTIVE';
  });
  return [performance.now() - started, id];
}

async function timed(call: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await call();
  return performance.now() - started;
}

const run = (file: string, args: string[], env: NodeJS.ProcessEnv) =>
  new Promise<void>((done, fail) =>
    execFile(file, args, { env }, (error) => (error ? fail(new Error(`${file} failed: ${error.message}`)) : done())),
  );

async function main(): Promise<void> {
  assertStack();
  const suffix = randomBytes(3).toString('hex');
  const net = await api('POST', '/v1/networks', {
    name: 'os-bench',
    vlan: 3902,
    cidr: '10.251.0.0/24',
    gateway: '10.251.0.1',
  });
  const project = await api('POST', '/v1/projects', { name: `os-bench-${suffix}` });
  const user = await api('POST', '/v1/users', { name: `os-bench-${suffix}`, password: PASSWORD });
  await api('PUT', `/v1/projects/${project.id}/members/${user.id}`, { role: 'member' });
  const ids = {
    image: (await api('GET', '/v1/images')).items.find((i: any) => i.name === 'busybox').id as string,
    flavor: (await api('GET', '/v1/flavors')).items.find((f: any) => f.name === 'm1.tiny').id as string,
    network: net.id as string,
  };
  const made: string[] = [];
  const figures = { nova: [] as number[], v1: [] as number[], novaList: [] as number[], v1List: [] as number[] };
  const logins = { keystone: [] as number[], v1: [] as number[] };
  let clientList: number[] = [];
  try {
    for (let i = 0; i < creates; i += 1) {
      const [a, idA] = await viaNova(i, ids);
      figures.nova.push(a);
      await finished((await api('DELETE', `/v1/instances/${idA}`)).operationId);
      const [b, idB] = await viaV1(i);
      figures.v1.push(b);
      await finished((await api('DELETE', `/v1/instances/${idB}`)).operationId);
    }
    // Lists with 6 instances present (the default host holds 8 m1.tiny).
    for (let i = 0; i < 6; i += 1) made.push((await viaV1(100 + i))[1]);
    for (let i = 0; i < lists; i += 1) {
      figures.novaList.push(await timed(() => nova('GET', '/servers/detail')));
      figures.v1List.push(await timed(() => api('GET', '/v1/instances')));
    }
    const keystoneBody = {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: user.name, domain: { id: 'default' }, password: PASSWORD } },
        },
        scope: { project: { id: project.id } },
      },
    };
    for (let i = 0; i < 20; i += 1) {
      logins.keystone.push(
        await timed(() =>
          fetch(`${url}/identity/v3/auth/tokens`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(keystoneBody),
          }).then((r) => r.text()),
        ),
      );
      logins.v1.push(
        await timed(() => api('POST', '/v1/auth/tokens', { user: user.name, password: PASSWORD, project: project.id })),
      );
    }
    const env = {
      PATH: process.env['PATH'],
      OS_AUTH_URL: `${url}/identity/v3`,
      OS_IDENTITY_API_VERSION: '3',
      OS_USERNAME: user.name,
      OS_PASSWORD: PASSWORD,
      OS_PROJECT_ID: project.id,
      OS_USER_DOMAIN_NAME: 'Default',
    };
    clientList = [];
    for (let i = 0; i < 5; i += 1) clientList.push(await timed(() => run('openstack', ['server', 'list'], env)));
  } finally {
    for (const id of made) await finished((await api('DELETE', `/v1/instances/${id}`)).operationId);
    await api('DELETE', `/v1/networks/${net.id}`).catch((e: unknown) => console.error(String(e)));
    await api('DELETE', `/v1/users/${user.id}`).catch((e: unknown) => console.error(String(e)));
    await api('DELETE', `/v1/projects/${project.id}`).catch((e: unknown) => console.error(String(e)));
  }

  const row = (name: string, v: number[]) =>
    `| ${name} | ${ms2(median(v))} | ${ms2(percentile(v, 90))} | ${ms2(Math.min(...v))} | ${ms2(Math.max(...v))} |`;
  const createRatio = median(figures.nova) / median(figures.v1);
  const listAdded = median(figures.novaList) - median(figures.v1List);
  const table = [
    '| | median | p90 | min | max |',
    '|---|---|---|---|---|',
    row('Nova: POST /compute/v2.1/servers → ACTIVE', figures.nova),
    row('Berth: POST /v1/instances → ACTIVE', figures.v1),
    row('Nova: GET /compute/v2.1/servers/detail (6 servers)', figures.novaList),
    row('Berth: GET /v1/instances (6 instances)', figures.v1List),
    row('Keystone: POST /identity/v3/auth/tokens (password)', logins.keystone),
    row('Berth: POST /v1/auth/tokens (password)', logins.v1),
    row('`openstack server list` (the client, start to exit)', clientList),
  ].join('\n');
  console.log(table);
  console.log(`create ratio ${createRatio.toFixed(3)}; list adds ${listAdded.toFixed(2)} ms`);
  writeSection(
    'openstack',
    `## openstack

\`node dist/bench/openstack.js ${creates} ${lists}\`: ${creates} container creates (m1.tiny, busybox) through Nova's
\`POST /compute/v2.1/servers\`, each polled every 5 ms on \`GET /compute/v2.1/servers/{id}\` until ACTIVE, interleaved
with as many through \`POST /v1/instances\` polled on \`/v1\`; then ${lists} lists of each with 6 instances present,
20 password logins through each face (an Argon2id check, m=19 MiB, t=2, p=1, is most of a login), and 5 runs of the
real \`openstack server list\` for a user's view (most of it is the client's own start-up and version discovery).
Run against a stack started with \`BERTH_RATE_EXEMPT_ADMIN=true\` (the 5 ms polls pass the admin's request limit).
${machineLine()}

${table}

**Create through Nova / through /v1 (medians): ${createRatio.toFixed(3)}** (target: at most 1.10).
**What Nova's list adds to /v1's (medians): ${listAdded.toFixed(2)} ms** (target: at most 2 ms).`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
