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
});
