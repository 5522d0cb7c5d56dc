import { Client } from 'pg';
import { TestStack } from './support/stack';
import { testEnv } from './support/test-env';

async function sql<T>(stack: TestStack, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: stack.db.url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function catalog(stack: TestStack): Promise<void> {
  const [admin] = (await stack.call('GET', '/v1/projects')).body.items;
  await stack.call('PUT', `/v1/projects/${admin.id}/quotas`, {
    instances: -1,
    vcpus: -1,
    ramMb: -1,
    diskGb: -1,
    ips: -1,
  });
  await stack.call('POST', '/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 128, diskGb: 1 });
  await stack.call('POST', '/v1/images', { name: 'busybox', kind: 'container', ref: testEnv().image });
  await stack.call('POST', '/v1/networks', { name: 'lan', vlan: 3950, cidr: '10.251.0.0/22', gateway: '10.251.0.1' });
}

describe('a burst: 4 scheduler processes, 500 parallel creates into room for exactly 300', () => {
  let stack: TestStack;
  const hosts = 30;
  const perHost = 10;

  beforeAll(async () => {
    stack = await TestStack.start({
      schedulers: 4,
      agent: false,
      env: { BERTH_HOST_DOWN_AFTER_SEC: '3600', BERTH_LOG_LEVEL: 'info' },
    });
    await catalog(stack);
    // Stand-in hosts: rows with a heartbeat, each with room for exactly 10 m1.tiny (no overcommit).
    await sql(
      stack,
      `INSERT INTO hosts (name, address, drivers, vcpus, ram_mb, disk_gb, cpu_ratio, ram_ratio, disk_ratio, last_heartbeat_at)
       SELECT 'burst-' || g, '192.0.2.1', '{container}', $1, $1 * 128, $1, 1, 1, 1, now() FROM generate_series(1, $2) g`,
      [perHost, hosts],
    );
  });
  afterAll(() => stack?.stop());

  it('places exactly 300, refuses 200 with "no valid host", and overbooks no host', async () => {
    const answers = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        stack.call('POST', '/v1/instances', {
          name: `b-${i}`,
          kind: 'container',
          flavor: 'm1.tiny',
          image: 'busybox',
          network: 'lan',
        }),
      ),
    );
    expect(answers.filter((a) => a.status === 202)).toHaveLength(500);
    await stack.until(
      'every placement to be decided',
      async () =>
        (await sql<{ n: number }>(stack, `SELECT count(*)::int AS n FROM instances WHERE task_state = 'scheduling'`))[0]
          ?.n === 0,
      120_000,
    );
    const states = await sql<{ placed: boolean; status: string; n: number }>(
      stack,
      `SELECT host_id IS NOT NULL AS placed, status, count(*)::int AS n FROM instances GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    expect(states).toEqual([
      { placed: false, status: 'ERROR', n: 200 },
      { placed: true, status: 'BUILDING', n: 300 },
    ]);
    const faults = await sql<{ message: string }>(
      stack,
      `SELECT fault->>'message' AS message FROM instances WHERE status = 'ERROR'`,
    );
    expect(faults.every((f) => f.message.startsWith('No valid host'))).toBe(true);
    const perHostUse = await sql<{ name: string; n: number; ram: number; over: boolean }>(
      stack,
      `SELECT h.name, count(a.id)::int AS n, coalesce(sum(a.ram_mb), 0)::int AS ram,
              coalesce(sum(a.ram_mb), 0) > floor(h.ram_mb * h.ram_ratio) OR coalesce(sum(a.vcpus), 0) > floor(h.vcpus * h.cpu_ratio) AS over
         FROM hosts h LEFT JOIN allocations a ON a.host_id = h.id GROUP BY h.id ORDER BY h.name`,
    );
    expect(perHostUse).toHaveLength(hosts);
    expect(perHostUse.filter((h) => h.over)).toEqual([]);
    expect(perHostUse.every((h) => h.n === perHost)).toBe(true);
    expect((await stack.call('GET', '/v1/usage/audit')).body.hostDrift).toEqual([]);
    expect((await stack.call('GET', '/v1/capacity?flavor=m1.tiny')).body.total).toBe(0);
  });
});

describe('reschedule through the real processes, with stand-in hosts', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({
      agent: false,
      fakeHosts: [{ name: 'flaky', failpoints: ['fake.network'] }, { name: 'steady' }],
      env: { BERTH_HOST_SUBSET_SIZE: '1' },
    });
    await catalog(stack);
  });
  afterAll(() => stack?.stop());

  it('pre-warms the image on one host, which the cache weigher then prefers', async () => {
    const image = (await stack.call('GET', '/v1/images')).body.items[0];
    const res = await stack.call('POST', `/v1/images/${image.id}/prewarm`, { hosts: ['flaky'] });
    expect(res.status).toBe(202);
    const op = await stack.operation(res.body.operationId);
    expect(op).toMatchObject({
      status: 'succeeded',
      steps: [{ name: 'pull flaky', status: 'succeeded', detail: 'cached' }],
    });
    const flaky = (await stack.call('GET', '/v1/hosts')).body.items.find((h: any) => h.name === 'flaky');
    expect(flaky.cachedImages).toContain(image.ref);
    const dry = await stack.call('POST', '/v1/scheduler/dry-run', {
      name: 'x',
      kind: 'container',
      flavor: 'm1.tiny',
      image: 'busybox',
      network: 'lan',
    });
    expect(dry.body).toMatchObject({ host: 'flaky', alternates: ['steady'], wouldPlace: 1, explanation: null });
  });

  it('rebuilds on the alternate when the build fails, leaving no claim on the failed host', async () => {
    const res = await stack.call('POST', '/v1/instances', {
      name: 'web',
      kind: 'container',
      flavor: 'm1.tiny',
      image: 'busybox',
      network: 'lan',
    });
    const op = await stack.operation(res.body.operationId);
    expect(op.status).toBe('succeeded');
    const steps = op.steps.map((s: any) => `${s.name}:${s.status}${s.detail ? `:${s.detail}` : ''}`);
    expect(steps).toEqual([
      'schedule:succeeded:host flaky',
      'create:succeeded',
      'start:succeeded',
      'network:failed:flaky: injected failure at fake.network',
      'schedule:succeeded:host steady',
      'create:succeeded',
      'start:succeeded',
      'network:succeeded',
      'limits:succeeded',
    ]);
    const instance = (await stack.call('GET', `/v1/instances/${res.body.instance.id}`)).body;
    expect(instance).toMatchObject({ status: 'ACTIVE', host: 'steady' });
    const usage = Object.fromEntries(
      ((await stack.call('GET', '/v1/hosts')).body.items as any[]).map((h) => [h.name, h.usage.instances]),
    );
    expect(usage).toEqual({ flaky: 0, steady: 1 });
  });
});
