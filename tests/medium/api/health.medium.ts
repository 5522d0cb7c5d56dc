import { QueueProducer } from '@berth/queue';
import { readdir } from 'node:fs/promises';
import { TestApi } from '../api-harness';
import { promtoolProblems, valueOf } from '../prometheus';

/** Liveness, readiness and the API's Prometheus metrics (real PostgreSQL and Redis). */
describe('health and metrics', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await TestApi.start();
  });
  afterAll(() => api?.stop());

  /** A scrape, checked by Prometheus's own parser and linter. */
  const scrape = async () => {
    const res = await api.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${api.adminToken}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await promtoolProblems(res.body)).toEqual([]);
    return res.body;
  };

  it('is ready when the database and Redis answer', async () => {
    expect(await api.call('GET', '/readyz', undefined, {})).toMatchObject({
      status: 200,
      body: { status: 'ready', checks: { database: 'ok', redis: 'ok' } },
    });
  });

  it('gives metrics to an admin only', async () => {
    expect((await api.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
  });

  it('counts requests by route template, method and status in a histogram', async () => {
    for (let i = 0; i < 3; i += 1) expect((await api.call('GET', '/v1/flavors')).status).toBe(200);
    expect((await api.call('GET', '/v1/flavors/00000000-0000-0000-0000-000000000000')).status).toBe(404);
    const text = await scrape();
    expect(text).toContain('# TYPE berth_api_request_duration_seconds histogram');
    const count = (route: string, status: string) =>
      valueOf(text, 'berth_api_request_duration_seconds_count', { method: 'GET', route, status });
    expect(count('/v1/flavors', '200')).toBeGreaterThanOrEqual(3);
    // The template, never the id: one series for every flavor looked up.
    expect(count('/v1/flavors/:id', '404')).toBe(1);
    expect(text).not.toContain('00000000-0000');
  });

  it('shows instances by status and hosts by capacity and use as the database holds them', async () => {
    await api.unlimitedQuota();
    await api.call('POST', '/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 64, diskGb: 1 });
    await api.call('POST', '/v1/images', { name: 'busybox', kind: 'container', ref: 'busybox' });
    await api.call('POST', '/v1/networks', { name: 'lan', vlan: 100, cidr: '10.65.0.0/24', gateway: '10.65.0.1' });
    const made = await api.call('POST', '/v1/instances', {
      name: 'web',
      kind: 'container',
      flavor: 'm1.tiny',
      image: 'busybox',
      network: 'lan',
      count: 2,
    });
    expect(made.status).toBe(202);
    await api.sql(
      `INSERT INTO hosts (name, address, drivers, vcpus, ram_mb, disk_gb, cpu_ratio, ram_ratio, disk_ratio, used_vcpus, last_heartbeat_at)
       VALUES ('metrics-host', '192.0.2.1', '{container}', 8, 4096, 100, 4, 1.5, 1, 3, now())`,
    );
    const text = await scrape();
    expect(valueOf(text, 'berth_instances', { status: 'BUILDING', kind: 'container' })).toBe(2);
    expect(valueOf(text, 'berth_instances', { status: 'ACTIVE' })).toBeUndefined();
    const host = (name: string, resource: string) => valueOf(text, name, { host: 'metrics-host', resource });
    expect(host('berth_host_capacity', 'vcpus')).toBe(32);
    expect(host('berth_host_capacity', 'ram_mb')).toBe(6144);
    expect(host('berth_host_used', 'vcpus')).toBe(3);
  });

  it("reports the process's own open files and memory, as the kernel counts them", async () => {
    const text = await scrape();
    const fds = valueOf(text, 'berth_api_process_open_fds') ?? NaN;
    const actual = (await readdir('/proc/self/fd')).length;
    expect(Math.abs(fds - actual)).toBeLessThanOrEqual(5);
    expect(valueOf(text, 'berth_api_process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
  });

  it('is not ready, naming Redis, when Redis does not answer', async () => {
    await api.app.get(QueueProducer).close();
    const res = await api.call('GET', '/readyz', undefined, {});
    expect(res).toMatchObject({ status: 503, body: { status: 'not ready', checks: { database: 'ok' } } });
    expect(res.body.checks.redis).not.toBe('ok');
  });
});
