import { jobId, PLACEMENT_QUEUE } from '@berth/contracts';
import { flavorThrottles } from '@berth/domain';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { eventually, TestApi } from '../api-harness';
import { testRedisUrl } from '../settings';

describe('instances API (real PostgreSQL and Redis, no hosts)', () => {
  let api: TestApi;
  let network: { id: string };
  const create = (body: Record<string, unknown>) =>
    api.call('POST', '/v1/instances', {
      name: 'web',
      kind: 'container',
      flavor: 'm1.tiny',
      image: 'busybox',
      network: 'lan',
      ...body,
    });

  beforeAll(async () => {
    api = await TestApi.start();
    await api.unlimitedQuota();
    await api.call('POST', '/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 128, diskGb: 1 });
    await api.call('POST', '/v1/images', { name: 'busybox', kind: 'container', ref: 'busybox' });
    network = (
      await api.call('POST', '/v1/networks', {
        name: 'lan',
        vlan: 100,
        cidr: '10.9.0.0/24',
        gateway: '10.9.0.1',
        allocationStart: '10.9.0.10',
        allocationEnd: '10.9.0.99',
      })
    ).body;
    expect((await create({ name: 'holder', ip: '10.9.0.50' })).status).toBe(202);
  });
  afterAll(() => api.stop());

  it('answers 202 with the instance BUILDING, its address, MAC and VLAN, and a running operation', async () => {
    const res = await create({ name: 'first' });
    expect(res.status).toBe(202);
    expect(res.body.instance).toMatchObject({
      name: 'first',
      kind: 'container',
      status: 'BUILDING',
      taskState: 'scheduling',
      powerState: 'NOSTATE',
      host: null,
      network: { id: network.id, name: 'lan' },
      ip: '10.9.0.10',
      mac: expect.stringMatching(/^02:be(:[0-9a-f]{2}){4}$/),
      vlan: 100,
      flavor: { name: 'm1.tiny', vcpus: 1, ramMb: 128, diskGb: 1 },
      image: { name: 'busybox', ref: 'busybox' },
    });
    const op = await api.call('GET', `/v1/operations/${res.body.operationId}`);
    expect(op.body).toMatchObject({ action: 'instance.create', status: 'running', targetId: res.body.instance.id });
    expect((await api.call('GET', `/v1/instances/${res.body.instance.id}`)).body).toEqual(res.body.instance);
  });

  it('relays the placement job from the outbox to Redis under a stable job id', async () => {
    const res = await create({ name: 'relayed' });
    const redis = new IORedis(testRedisUrl(), { maxRetriesPerRequest: null });
    const queue = new Queue(PLACEMENT_QUEUE, { connection: redis, prefix: api.env.BERTH_QUEUE_PREFIX });
    try {
      const job = await eventually(() => queue.getJob(jobId(res.body.operationId, 'place')), 'the job in Redis');
      expect(job.data).toEqual({
        v: 1,
        // The request's id travels with its job, so the scheduler logs under it.
        requestId: res.headers['x-request-id'],
        members: [
          {
            instanceId: res.body.instance.id,
            operationId: res.body.operationId,
            spec: {
              id: res.body.instance.id,
              name: 'relayed',
              kind: 'container',
              diskGb: 1,
              imageRef: 'busybox',
              limits: {
                vcpus: 1,
                ramMb: 128,
                cpuPolicy: 'shared',
                pinnedCpus: [],
                ...flavorThrottles({}, 1024),
              },
              port: {
                id: res.body.instance.portId,
                networkId: network.id,
                mac: res.body.instance.mac,
                ip: res.body.instance.ip,
                prefixLength: 24,
                gateway: '10.9.0.1',
                vlan: 100,
                portSecurity: true,
                allowedAddressPairs: [],
                // The project's default group: egress anywhere, ingress from its members (this one among them).
                firewall: {
                  cut: [],
                  version: expect.any(Number),
                  rules: [
                    expect.objectContaining({ direction: 'egress', protocol: 'any', remoteCidrs: ['0.0.0.0/0'] }),
                    expect.objectContaining({
                      direction: 'ingress',
                      protocol: 'any',
                      remoteCidrs: expect.arrayContaining([`${res.body.instance.ip}/32`]),
                    }),
                  ],
                },
              },
            },
          },
        ],
        minCount: 1,
        request: {
          kind: 'container',
          projectId: res.body.instance.projectId,
          cpuPolicy: 'shared',
          vcpus: 1,
          ramMb: 128,
          diskGb: 1,
          pidsLimit: 1024,
          zone: null,
          extraSpecs: {},
          vlan: 100,
          imageRef: 'busybox',
          serverGroupId: null,
          reservationId: null,
        },
      });
      // The relay deletes the row in the transaction that sent the job, which commits just after.
      const empty = async () =>
        (await api.sql<{ n: number }>('SELECT count(*)::int AS n FROM outbox'))[0]?.n === 0 ? true : null;
      expect(await eventually(empty, 'an empty outbox')).toBe(true);
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });

  it('takes a requested free address from the pool', async () => {
    const res = await create({ name: 'fixed', ip: '10.9.0.60' });
    expect(res.status).toBe(202);
    expect(res.body.instance.ip).toBe('10.9.0.60');
  });

  it('gives 20 parallel creates 20 different addresses', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => create({ name: `par-${i}` })));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(202));
    const ips = answers.map((a) => a.body.instance.ip as string);
    expect(new Set(ips).size).toBe(20);
    const macs = answers.map((a) => a.body.instance.mac as string);
    expect(new Set(macs).size).toBe(20);
  });

  async function refused(body: Record<string, unknown>, status: number) {
    const before = await api.counts();
    const res = await create(body);
    expect(res.status).toBe(status);
    expect(await api.counts()).toEqual(before);
    return res.body.error as { code: string; details: Array<{ field: string; rule: string }> };
  }

  it.each([
    [{ ip: '10.9.0.50' }, 409, 'ip', 'free'],
    [{ ip: '10.9.0.100' }, 400, 'ip', 'inPool'],
    [{ ip: '10.9.1.20' }, 400, 'ip', 'inPool'],
    [{ ip: '10.9.0.1' }, 400, 'ip', 'inPool'],
    [{ ip: 'ten.nine' }, 400, 'ip', 'ipv4'],
    [{ flavor: 'm9.huge' }, 404, 'flavor', 'exists'],
    [{ image: 'nope' }, 404, 'image', 'exists'],
    [{ network: '00000000-0000-4000-8000-000000000000' }, 404, 'network', 'exists'],
    [{ name: '' }, 400, 'name', 'matches'],
    [{ name: 'a'.repeat(64) }, 400, 'name', 'matches'],
    [{ name: 'web_1' }, 400, 'name', 'matches'],
    [{ name: '$(reboot)' }, 400, 'name', 'matches'],
    [{ name: '<x>' }, 400, 'name', 'matches'],
    [{ kind: 'vm' }, 400, 'image', 'kind'],
    [{ kind: 'pod' }, 400, 'kind', 'isIn'],
    [{ hostname: 'x' }, 400, 'hostname', 'unknownField'],
    [{ flavor: 7 }, 400, 'flavor', 'isString'],
  ])('refuses %j with %i on %s (%s) and writes nothing', async (body, status, field, rule) => {
    const error = await refused(body, status);
    expect(error.details).toContainEqual(expect.objectContaining({ field, rule }));
  });

  it('refuses a power action the state does not allow with 409', async () => {
    const res = await create({ name: 'busy' });
    const stop = await api.call('POST', `/v1/instances/${res.body.instance.id}/actions`, { action: 'stop' });
    expect(stop.status).toBe(409);
    expect(stop.body.error.message).toBe('cannot stop while the instance is scheduling');
    const bad = await api.call('POST', `/v1/instances/${res.body.instance.id}/actions`, { action: 'explode' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([expect.objectContaining({ field: 'action', rule: 'isIn' })]);
  });

  it('deletes an instance that never reached a host at once, freeing its address', async () => {
    const res = await create({ name: 'doomed', ip: '10.9.0.77' });
    const del = await api.call('DELETE', `/v1/instances/${res.body.instance.id}`);
    expect(del.status).toBe(202);
    const op = await api.call('GET', `/v1/operations/${del.body.operationId}`);
    expect(op.body).toMatchObject({ action: 'instance.delete', status: 'succeeded' });
    const createOp = await api.call('GET', `/v1/operations/${res.body.operationId}`);
    expect(createOp.body).toMatchObject({ status: 'failed', fault: { step: 'interrupted' } });
    expect((await api.call('GET', `/v1/instances/${res.body.instance.id}`)).status).toBe(404);
    expect((await api.call('DELETE', `/v1/instances/${res.body.instance.id}`)).status).toBe(404);
    expect((await create({ name: 'reuse', ip: '10.9.0.77' })).status).toBe(202);
  });

  it('refuses to delete a network that still has ports', async () => {
    const res = await api.call('DELETE', `/v1/networks/${network.id}`);
    expect(res.status).toBe(409);
    expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'id', rule: 'inUse' })]);
  });

  it('pages through every live instance exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await api.call(
        'GET',
        `/v1/instances?limit=4${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.body.items.length).toBeLessThanOrEqual(4);
      seen.push(...page.body.items.map((i) => i.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    const live = await api.sql<{ id: string }>('SELECT id FROM instances WHERE deleted_at IS NULL');
    expect(seen.length).toBe(live.length);
    expect(new Set(seen)).toEqual(new Set(live.map((r) => r.id)));
  });

  it.each(['limit=0', 'limit=501', 'limit=ten', 'cursor=not-a-cursor', 'sort=name'])(
    'refuses ?%s with 400',
    async (q) => {
      expect((await api.call('GET', `/v1/instances?${q}`)).status).toBe(400);
    },
  );

  it('runs out of addresses with a clear 409', async () => {
    await api.call('POST', '/v1/networks', {
      name: 'tiny',
      vlan: 300,
      cidr: '10.8.0.0/29',
      gateway: '10.8.0.1',
      allocationStart: '10.8.0.2',
      allocationEnd: '10.8.0.3',
    });
    expect((await create({ name: 'a', network: 'tiny' })).status).toBe(202);
    expect((await create({ name: 'b', network: 'tiny' })).status).toBe(202);
    const error = await refused({ name: 'c', network: 'tiny' }, 409);
    expect(error.details).toEqual([expect.objectContaining({ field: 'network', rule: 'exhausted' })]);
  });
});
