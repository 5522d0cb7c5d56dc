import { newSshKeyPair } from '@berth/enroll';
import { runCommand } from '@berth/platform';
import { randomBytes, randomInt } from 'node:crypto';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { testRedisUrl } from '../medium/settings';
import { TestStack } from './support/stack';
import { testEnv } from './support/test-env';
import { onlyTestbedHosts } from './support/testbed';

// Enrolling testbed host 2 over SSH (its own sshd, dockerd and OVS in its namespace): the API records
// the request with the key sealed, the scheduler connects, checks, installs and starts the agent.

const tb = testEnv().testbed;
const HOST = 2;
const data = `/var/lib/berth-testbed/tb${HOST}`;
const authorizedKeys = `${data}/ssh/authorized_keys`;
const agentDir = `${data}/agent`;
const net = `10.${randomInt(100, 200)}.${randomInt(0, 255)}`;

describe('enrolling a host over SSH (testbed host 2: real sshd, dockerd and OVS)', () => {
  let stack: TestStack;
  let db: Client;
  const operator = newSshKeyPair('berth-test-operator');
  const name = `enrolled-${randomBytes(3).toString('hex')}`;
  let before = '';
  let agentUser = '';

  const enroll = (body: Record<string, unknown>) =>
    stack.call('POST', '/v1/hosts', { name, address: tb.address(HOST), privateKey: operator.privateKey, ...body });

  beforeAll(async () => {
    const redis = new URL(testRedisUrl());
    redis.hostname = tb.gateway;
    stack = await TestStack.start({
      agent: false,
      testbedHosts: [1],
      env: { BERTH_AGENT_REDIS_URL: redis.toString(), BERTH_HOST_CACHE_MS: '50' },
    });
    db = new Client({ connectionString: stack.db.url });
    db.on('error', () => undefined);
    await db.connect();
    before = await readFile(authorizedKeys, 'utf8');
    await writeFile(authorizedKeys, `${before}${operator.publicKey}\n`);
    for (const [path, body] of [
      ['/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 128, diskGb: 1 }],
      ['/v1/images', { name: 'busybox', kind: 'container', ref: tb.image }],
      ['/v1/networks', { name: 'vlan100', vlan: 100, cidr: `${net}.0/24`, gateway: `${net}.1` }],
    ] as const) {
      expect((await stack.call('POST', path, body)).status).toBe(201);
    }
  });

  afterAll(async () => {
    const pid = await readFile(`${agentDir}/agent.pid`, 'utf8').catch(() => '');
    if (/^\d+/.test(pid.trim())) await runCommand(['kill', pid.trim()]).catch(() => undefined);
    await db?.end();
    await stack?.stop();
    if (agentUser) await runCommand(['redis-cli', 'ACL', 'DELUSER', agentUser]);
    await rm(agentDir, { recursive: true, force: true });
    // Only the operator's key goes; what the testbed had stays.
    const now = await readFile(authorizedKeys, 'utf8').catch(() => '');
    await writeFile(
      authorizedKeys,
      now
        .split('\n')
        .filter((l) => l && l !== operator.publicKey.trim() && !l.endsWith('berth-migration'))
        .map((l) => `${l}\n`)
        .join(''),
    );
  });

  it('refuses bad input with 400 naming the field, and records nothing', async () => {
    for (const [body, field] of [
      [{ privateKey: 'not a key' }, 'privateKey'],
      [{ port: 70_000 }, 'port'],
      [{ name: 'a;b' }, 'name'],
      [{ address: '10.0.0.1; rm -rf /' }, 'address'],
      [{ username: '-oProxyCommand=sh' }, 'username'],
      [{ drivers: ['xen'] }, 'drivers'],
      [{ hostKeyFingerprint: 'MD5:aa:bb' }, 'hostKeyFingerprint'],
    ] as const) {
      const res = await enroll(body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body.error.details.map((d: any) => d.field)).toContain(field);
      expect(JSON.stringify(res.body)).not.toContain('PRIVATE KEY');
    }
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM host_enrollments`);
    expect(rows[0].n).toBe(0);
  });

  it('fails at connect when the host presents another key than the one given, and starts nothing', async () => {
    const res = await enroll({ hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` });
    expect(res.status).toBe(202);
    const op = await stack.operation(res.body.operationId, 60_000);
    expect(op).toMatchObject({ status: 'failed', fault: { step: 'connect' } });
    expect(op.fault.message).toMatch(/^host key mismatch: the host presented SHA256:\S+, but SHA256:A{43} is pinned/);
    const hosts = (await stack.call('GET', '/v1/hosts')).body.items.map((h: any) => h.name);
    expect(hosts).not.toContain(name);
    await expect(stat(`${agentDir}/agent.pid`)).rejects.toThrow();
  });

  it('enrolls: the host key is pinned, prerequisites pass, the agent starts and the host takes instances', async () => {
    const res = await enroll({});
    expect(res.status).toBe(202);
    const op = await stack.operation(res.body.operationId, 120_000);
    expect(op).toMatchObject({ status: 'succeeded', action: 'host.enroll' });
    expect(op.steps.map((s: any) => s.name)).toEqual(['connect', 'prerequisites', 'install', 'start', 'heartbeat']);
    const hostKey = (await runCommand(['ssh-keygen', '-lf', `${data}/ssh/host_ed25519.pub`])).split(' ')[1];
    expect(op.steps[0].detail).toBe(`host key ${hostKey} (first seen: pinned)`);
    expect(op.steps[1].detail).toMatch(/^docker 20\.10/);

    const host = (await stack.call('GET', '/v1/hosts')).body.items.find((h: any) => h.name === name);
    expect(host).toMatchObject({ state: 'up', address: tb.address(HOST), drivers: ['container'] });
    expect(op.targetId).toBe(host.id);

    // What the host holds: its settings and the cloud's migration key, readable by root alone.
    expect((await stat(`${agentDir}/agent.env`)).mode & 0o777).toBe(0o600);
    expect((await stat(`${agentDir}/migration_key`)).mode & 0o777).toBe(0o600);
    const env = await readFile(`${agentDir}/agent.env`, 'utf8');
    expect(env).toContain(`BERTH_HOST_NAME='${name}'`);
    expect(env).toContain(`BERTH_DOCKER_SOCKET='${tb.runDir(HOST)}/docker.sock'`);
    expect(env).not.toContain('PRIVATE KEY');
    // Its own Redis user: its queue and the reports queue, and nothing of another host's.
    const prefix = /^BERTH_QUEUE_PREFIX='([^']+)'$/m.exec(env)?.[1] ?? '';
    const url = /^BERTH_REDIS_URL='([^']+)'$/m.exec(env)?.[1] ?? '';
    agentUser = `${prefix}.agent.${name}`;
    expect(decodeURIComponent(new URL(url).username)).toBe(agentUser);
    expect(new URL(url).password).toMatch(/^[0-9a-f]{64}$/);
    const asAgent = new IORedis(url.replace(tb.gateway, '127.0.0.1'), { maxRetriesPerRequest: 1 });
    try {
      expect(await asAgent.llen(`${prefix}:compute.${name}:wait`)).toBeGreaterThanOrEqual(0);
      await expect(asAgent.llen(`${prefix}:compute.${stack.testbedHostNames[0]}:wait`)).rejects.toThrow(/NOPERM/);
      await expect(asAgent.set(`${prefix}:anything`, 'x')).rejects.toThrow(/NOPERM/);
      await expect(asAgent.call('ACL', 'LIST')).rejects.toThrow(/NOPERM/);
      // Its own terminals' channels, and no other host's console sessions.
      expect(await asAgent.publish(`${prefix}:terminal:${name}:s1:out`, 'x')).toBeGreaterThanOrEqual(0);
      const other = `${prefix}:terminal:${stack.testbedHostNames[0]}:s1:in`;
      await expect(asAgent.publish(other, 'x')).rejects.toThrow(/NOPERM/);
      await expect(asAgent.subscribe(other)).rejects.toThrow(/NOPERM/);
    } finally {
      asAgent.disconnect();
    }
    expect(await readFile(authorizedKeys, 'utf8')).toMatch(/ssh-ed25519 \S+ berth-migration/);

    // The operator's key is sealed at rest and in no log, job or queue record.
    const { rows } = await db.query(`SELECT private_key_sealed AS sealed FROM host_enrollments`);
    const keyBody = operator.privateKey.split('\n')[1] ?? '';
    expect(keyBody.length).toBeGreaterThan(20);
    for (const r of rows) expect(r.sealed).not.toContain(keyBody);
    const outbox = await db.query(`SELECT payload::text AS p FROM outbox`);
    for (const r of outbox.rows) expect(r.p).not.toContain(keyBody);
    for (const file of await readdir('.berth/test-logs')) {
      if (!file.startsWith(stack.hostName)) continue;
      expect(await readFile(`.berth/test-logs/${file}`, 'utf8')).not.toContain(keyBody);
    }

    await onlyTestbedHosts(stack);
    const hosts = (await stack.call('GET', '/v1/hosts')).body.items;
    await stack.call('PATCH', `/v1/hosts/${hosts.find((h: any) => h.name === name).id}`, { enabled: true });
    const made = await stack.createInstance({ name: 'on-enrolled', network: 'vlan100' });
    expect(made).toMatchObject({ status: 'ACTIVE', host: name });
    expect((await stack.remove(made.id)).status).toBe('succeeded');
  });

  it('enforces the pinned key: the same address presenting another key fails at connect', async () => {
    // As if the host had been replaced (or an attacker answered at its address): the pin is not what it presents.
    await db.query(`UPDATE known_host_keys SET fingerprint = $2 WHERE address = $1`, [
      tb.address(HOST),
      `SHA256:${'B'.repeat(43)}`,
    ]);
    const res = await enroll({ name: `${name}-again` });
    const op = await stack.operation(res.body.operationId, 60_000);
    expect(op).toMatchObject({ status: 'failed', fault: { step: 'connect' } });
    expect(op.fault.message).toContain(`SHA256:${'B'.repeat(43)} is pinned`);
  });
});
