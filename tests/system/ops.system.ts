import { BerthClient, type ServerEvent } from '@berth/client';
import { randomBytes } from 'node:crypto';
import { promtoolProblems, valueOf } from '../medium/prometheus';
import { TestStack } from './support/stack';
import { testEnv } from './support/test-env';

/** The scheduler's and the agent's /healthz, /readyz and /metrics, on the real stack. */
describe('health and metrics of the scheduler and a compute agent', () => {
  let stack: TestStack;
  const env = testEnv();

  beforeAll(async () => {
    stack = await TestStack.start();
    for (const [path, body] of [
      ['/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 128, diskGb: 1 }],
      ['/v1/images', { name: 'busybox', kind: 'container', ref: env.image }],
      ['/v1/networks', { name: 'vlan100', vlan: 100, cidr: '10.98.0.0/24', gateway: '10.98.0.1' }],
    ] as const) {
      expect((await stack.call('POST', path, body)).status).toBe(201);
    }
  });
  afterAll(() => stack?.stop());

  const get = async (url: string) => {
    const res = await fetch(url);
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };

  it('answers live and ready, naming each dependency it checked', async () => {
    const scheduler = await stack.opsUrl('scheduler-0');
    const agent = await stack.opsUrl(stack.hostName);
    expect((await get(`${scheduler}/healthz`)).status).toBe(200);
    expect(JSON.parse((await get(`${scheduler}/readyz`)).text)).toEqual({
      status: 'ready',
      checks: { database: 'ok', redis: 'ok' },
    });
    expect(JSON.parse((await get(`${agent}/readyz`)).text)).toEqual({
      status: 'ready',
      checks: { redis: 'ok', container: 'ok' },
    });
    expect((await get(`${agent}/nothing`)).status).toBe(404);
  });

  it('counts the placement and the build of an instance, and its jobs, in Prometheus text', async () => {
    const made = await stack.createInstance({ name: 'counted', network: 'vlan100' });
    expect(made.status).toBe('ACTIVE');

    const scheduler = await get(`${await stack.opsUrl('scheduler-0')}/metrics`);
    expect(scheduler.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await promtoolProblems(scheduler.text)).toEqual([]);
    expect(valueOf(scheduler.text, 'berth_scheduler_placements_total', { outcome: 'placed' })).toBe(1);
    const placeJobs = { queue: 'placement', job: 'instances.place', outcome: 'succeeded' };
    expect(valueOf(scheduler.text, 'berth_scheduler_job_duration_seconds_count', placeJobs)).toBe(1);
    expect(valueOf(scheduler.text, 'berth_scheduler_queue_jobs', { queue: 'placement', state: 'waiting' })).toBe(0);

    const agent = await get(`${await stack.opsUrl(stack.hostName)}/metrics`);
    expect(await promtoolProblems(agent.text)).toEqual([]);
    const builds = { queue: `compute.${stack.hostName}`, job: 'instance.create', outcome: 'succeeded' };
    expect(valueOf(agent.text, 'berth_agent_job_duration_seconds_count', builds)).toBe(1);
    expect(valueOf(agent.text, 'berth_agent_process_open_fds')).toBeGreaterThan(0);
    expect((await stack.remove(made.id)).status).toBe('succeeded');
  });
  it('streams a create as it happens and logs it under one request id in the api, scheduler and agent', async () => {
    const requestId = `trace-${randomBytes(6).toString('hex')}`;
    const client = new BerthClient({ url: stack.url, token: stack.token, requestId });
    const abort = new AbortController();
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const seen: ServerEvent[] = [];
    const reading = (async () => {
      for await (const event of client.events(
        { types: 'instance,operation' },
        { signal: abort.signal, onOpen: opened },
      )) {
        seen.push(event);
        if (event.type === 'instance.updated' && event.data.status === 'ACTIVE') return;
      }
    })();
    await open;
    const accepted = await client.request<{ instance: { id: string }; operationId: string }>('POST', '/v1/instances', {
      body: { name: 'traced', kind: 'container', flavor: 'm1.tiny', image: 'busybox', network: 'vlan100' },
    });
    const timer = setTimeout(() => abort.abort(), 60_000);
    await reading;
    clearTimeout(timer);
    abort.abort();
    const instanceId = accepted.body.instance.id;
    expect(accepted.headers.get('x-request-id')).toBe(requestId);

    const statuses = seen.filter((e) => e.resource.id === instanceId).map((e) => e.data.status);
    expect(statuses[0]).toBe('BUILDING');
    expect(statuses.at(-1)).toBe('ACTIVE');
    expect(statuses.indexOf('ACTIVE')).toBe(statuses.length - 1);
    const operation = seen.filter((e) => e.resource.id === accepted.body.operationId);
    expect(operation[0]?.type).toBe('operation.created');
    expect(operation.every((e) => e.data.requestId === requestId)).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.seq).toBeGreaterThan(seen[i - 1]!.seq);
    const finished = await stack.operation(accepted.body.operationId);
    expect(finished).toMatchObject({ status: 'succeeded', requestId });

    // The same id on the log lines of all three processes, each a JSON object.
    const linesWith = async (name: string) =>
      (await stack.logOf(name))
        .split('\n')
        .filter((l) => l.includes(requestId))
        .map((l) => JSON.parse(l) as { requestId: string; msg: string; process: string });
    const api = await linesWith('api');
    const scheduler = await linesWith('scheduler-0');
    const agent = await linesWith(stack.hostName);
    for (const [lines, process] of [
      [api, 'api'],
      [scheduler, 'scheduler'],
      [agent, 'compute-agent'],
    ] as const) {
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatchObject({ requestId, process });
    }
    expect(api.map((l) => l.msg)).toContain('request');
    expect(scheduler.map((l) => l.msg)).toContain('placed');
    expect(agent.length).toBeGreaterThan(0);
    expect((await stack.remove(instanceId)).status).toBe('succeeded');
  });
});
