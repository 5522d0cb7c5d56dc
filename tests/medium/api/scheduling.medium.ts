import { ReportWorkflow, ReservationWorkflow } from '@berth/control';
import { TestApi } from '../api-harness';
import { hostFacts } from '../host-facts';

const facts = hostFacts;

describe('scheduling API: dry-run, capacity, hosts, aggregates, reservations (real PostgreSQL)', () => {
  let api: TestApi;
  let reports: ReportWorkflow;
  const create = { name: 'web', kind: 'container', flavor: 'm1.small', image: 'busybox', network: 'lan' };
  const hostId = async (name: string) =>
    (await api.sql<{ id: string }>('SELECT id FROM hosts WHERE name = $1', [name]))[0]?.id;

  beforeAll(async () => {
    api = await TestApi.start();
    await api.unlimitedQuota();
    reports = new ReportWorkflow(api.dataSource, { cpu: 1, ram: 1, disk: 1 });
    await reports.heartbeat(facts('a1'));
    await reports.heartbeat(facts('a2', { ramMb: 2048 }));
    await reports.heartbeat(facts('b1', { vlanRanges: '200-299' }));
    await reports.heartbeat(facts('vm1', { drivers: ['vm'] }));
    await api.call('POST', '/v1/flavors', { name: 'm1.small', vcpus: 1, ramMb: 512, diskGb: 10 });
    await api.call('POST', '/v1/flavors', {
      name: 'ssd.small',
      vcpus: 1,
      ramMb: 512,
      diskGb: 10,
      extraSpecs: { 'aggregate:disk': 'ssd' },
    });
    await api.call('POST', '/v1/images', { name: 'busybox', kind: 'container', ref: 'busybox' });
    await api.call('POST', '/v1/networks', { name: 'lan', vlan: 100, cidr: '10.80.0.0/24', gateway: '10.80.0.1' });
  });
  afterAll(() => api.stop());

  describe('dry-run', () => {
    it('names the host a create would go to, its alternates, and why each other host refuses', async () => {
      const res = await api.call('POST', '/v1/scheduler/dry-run', create);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        host: 'a2',
        alternates: ['a1'],
        asked: 1,
        minCount: 1,
        wouldPlace: 1,
        placements: [{ host: 'a2', instances: 1 }],
        hostsConsidered: 4,
        passed: 2,
        rejected: [
          {
            host: 'b1',
            filter: 'NetworkReachable',
            code: 'vlan',
            reason: 'host does not reach VLAN 100 (reaches 200-299)',
          },
          { host: 'vm1', filter: 'DriverKind', code: 'container', reason: 'host has no container driver (offers vm)' },
        ],
        reasons: [
          {
            filter: 'DriverKind',
            code: 'container',
            hosts: 1,
            example: 'vm1: host has no container driver (offers vm)',
          },
          {
            filter: 'NetworkReachable',
            code: 'vlan',
            hosts: 1,
            example: 'b1: host does not reach VLAN 100 (reaches 200-299)',
          },
        ],
        explanation: null,
      });
    });

    it('simulates a request of several: where each would go, and how many fit', async () => {
      const res = await api.call('POST', '/v1/scheduler/dry-run', { ...create, maxCount: 7 });
      expect(res.body).toMatchObject({
        asked: 7,
        wouldPlace: 6,
        placements: [
          { host: 'a2', instances: 4 },
          { host: 'a1', instances: 2 },
        ],
      });
      expect(res.body.explanation).toBe(
        'No valid host: a1: Capacity: ramMb needs 512, 0 free; a2: Capacity: vcpus needs 1, 0 free; ramMb needs 512, 0 free; ' +
          'b1: NetworkReachable: host does not reach VLAN 100 (reaches 200-299); vm1: DriverKind: host has no container driver (offers vm)',
      );
      expect((await api.call('POST', '/v1/scheduler/dry-run', { ...create, count: 7 })).body.wouldPlace).toBe(0);
    });

    it('validates the body exactly as a create does', async () => {
      const res = await api.call('POST', '/v1/scheduler/dry-run', { ...create, flavor: 'm9' });
      expect(res.status).toBe(404);
      expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'flavor' })]);
    });
  });

  describe('aggregates and flavor extra specs', () => {
    it('sends a flavor asking for an aggregate to its hosts only', async () => {
      expect(
        (await api.call('POST', '/v1/scheduler/dry-run', { ...create, flavor: 'ssd.small' })).body.explanation,
      ).toMatch(/a1: AggregateExtraSpecs: no aggregate of the host has disk=ssd/);
      const agg = await api.call('POST', '/v1/aggregates', { name: 'fast', metadata: { disk: 'ssd' }, hosts: ['a1'] });
      expect(agg.status).toBe(201);
      expect(agg.body).toMatchObject({ name: 'fast', metadata: { disk: 'ssd' }, hosts: ['a1'] });
      expect((await api.call('POST', '/v1/scheduler/dry-run', { ...create, flavor: 'ssd.small' })).body).toMatchObject({
        host: 'a1',
        alternates: [],
      });
      expect((await api.call('GET', `/v1/hosts/${await hostId('a1')}`)).body.aggregates).toEqual(['fast']);
      const moved = await api.call('PUT', `/v1/aggregates/${agg.body.id}`, { hosts: ['a2'] });
      expect(moved.body.hosts).toEqual(['a2']);
      expect((await api.call('POST', '/v1/scheduler/dry-run', { ...create, flavor: 'ssd.small' })).body.host).toBe(
        'a2',
      );
    });

    it.each([
      [{ name: 'x', metadata: { 'bad key': 'v' } }, 'metadata', 'isStringMap'],
      [{ name: 'x', metadata: { k: 5 } }, 'metadata', 'isStringMap'],
      [{ name: 'x', hosts: ['nohost'] }, 'hosts', 'exists'],
    ])('refuses %j (%s, %s)', async (body, field, rule) => {
      const res = await api.call('POST', '/v1/aggregates', body);
      expect(res.status).toBe(field === 'hosts' ? 404 : 400);
      expect(res.body.error.details).toContainEqual(expect.objectContaining({ field, rule }));
    });
  });

  describe('hosts', () => {
    it('takes a disabled host out of scheduling, with its reason, and puts it back', async () => {
      const id = await hostId('a2');
      const off = await api.call('PATCH', `/v1/hosts/${id}`, { enabled: false, disabledReason: 'memory test' });
      expect(off.body).toMatchObject({ enabled: false, disabledReason: 'memory test' });
      expect((await api.call('POST', '/v1/scheduler/dry-run', create)).body.host).toBe('a1');
      const on = await api.call('PATCH', `/v1/hosts/${id}`, { enabled: true });
      expect(on.body).toMatchObject({ enabled: true, disabledReason: null });
    });

    it('places by zone once hosts have one', async () => {
      await api.call('PATCH', `/v1/hosts/${await hostId('a1')}`, { zone: 'z1' });
      expect((await api.call('POST', '/v1/scheduler/dry-run', { ...create, zone: 'z1' })).body).toMatchObject({
        host: 'a1',
        passed: 1,
      });
      expect(
        (await api.call('POST', '/v1/scheduler/dry-run', { ...create, zone: 'nowhere' })).body.explanation,
      ).toMatch(/a1: AvailabilityZone: host is in zone z1, not nowhere/);
    });

    it.each([
      [{ cpuRatio: 0 }, 'cpuRatio', 'min'],
      [{ zone: 'a b' }, 'zone', 'matches'],
      [{ enabled: 'no' }, 'enabled', 'isBoolean'],
      [{}, 'body', 'notEmpty'],
    ])('refuses %j', async (body, field, rule) => {
      const res = await api.call('PATCH', `/v1/hosts/${await hostId('a1')}`, body);
      expect(res.status).toBe(400);
      expect(res.body.error.details).toContainEqual(expect.objectContaining({ field, rule }));
    });
  });

  describe('capacity', () => {
    it('counts how many more fit, per host, after disabled hosts and what is held', async () => {
      const res = await api.call('GET', '/v1/capacity?flavor=m1.small');
      expect(res.body).toMatchObject({
        flavor: 'm1.small',
        kind: 'container',
        total: 8,
        hosts: [
          { host: 'a2', fits: 4 },
          { host: 'a1', fits: 2 },
          { host: 'b1', fits: 2 },
        ],
      });
      expect(res.body.excluded).toEqual([
        { filter: 'DriverKind', code: 'container', hosts: 1, example: 'vm1: host has no container driver (offers vm)' },
      ]);
      expect((await api.call('GET', '/v1/capacity?flavor=m1.small&zone=z1')).body).toMatchObject({
        total: 2,
        hosts: [{ host: 'a1', fits: 2 }],
      });
    });

    it('refuses a missing or unknown flavor', async () => {
      expect((await api.call('GET', '/v1/capacity')).status).toBe(400);
      expect((await api.call('GET', '/v1/capacity?flavor=nope')).status).toBe(404);
    });
  });

  describe('reservations', () => {
    const endsAt = () => new Date(Date.now() + 3_600_000).toISOString();

    it('claims its slots now, all or nothing, and capacity shows them taken', async () => {
      const before = (await api.call('GET', '/v1/capacity?flavor=m1.small')).body.total as number;
      const held = await api.call('POST', '/v1/reservations', { flavor: 'm1.small', count: 3, endsAt: endsAt() });
      expect(held.status).toBe(201);
      expect(held.body).toMatchObject({ count: 3, free: 3, status: 'active' });
      expect((await api.call('GET', '/v1/capacity?flavor=m1.small')).body.total).toBe(before - 3);
      const tooMany = await api.call('POST', '/v1/reservations', { flavor: 'm1.small', count: 50, endsAt: endsAt() });
      expect(tooMany.status).toBe(409);
      expect(tooMany.body.error.message).toBe(`only ${before - 3} of 50 m1.small fit in the capacity left`);
      expect((await api.call('GET', '/v1/capacity?flavor=m1.small')).body.total).toBe(before - 3);
      expect((await api.call('DELETE', `/v1/reservations/${held.body.id}`)).status).toBe(204);
      expect((await api.call('GET', '/v1/capacity?flavor=m1.small')).body.total).toBe(before);
    });

    it('refuses a draw outside its window or with another flavor', async () => {
      const later = await api.call('POST', '/v1/reservations', {
        flavor: 'm1.small',
        count: 1,
        startsAt: new Date(Date.now() + 600_000).toISOString(),
        endsAt: endsAt(),
      });
      const early = await api.call('POST', '/v1/instances', { ...create, reservation: later.body.id });
      expect(early.status).toBe(409);
      expect(early.body.error.details).toEqual([expect.objectContaining({ field: 'reservation', rule: 'window' })]);
      const other = await api.call('POST', '/v1/reservations', { flavor: 'ssd.small', count: 1, endsAt: endsAt() });
      const wrong = await api.call('POST', '/v1/instances', { ...create, reservation: other.body.id });
      expect(wrong.status).toBe(400);
      expect(wrong.body.error.details).toEqual([expect.objectContaining({ field: 'flavor', rule: 'reservation' })]);
      for (const r of [later, other]) await api.call('DELETE', `/v1/reservations/${r.body.id}`);
    });

    it('releases its slots when its window ends', async () => {
      const before = (await api.call('GET', '/v1/capacity?flavor=m1.small')).body.total as number;
      const held = await api.call('POST', '/v1/reservations', { flavor: 'm1.small', count: 2, endsAt: endsAt() });
      await api.sql(
        `UPDATE reservations SET starts_at = now() - interval '2 hours', ends_at = now() - interval '1 second' WHERE id = $1`,
        [held.body.id],
      );
      const store = new ReservationWorkflow(api.dataSource, { maxInstancesPerHost: 50, downAfterSec: 60 });
      expect(await store.releaseExpired()).toEqual([held.body.id]);
      expect((await api.call('GET', `/v1/reservations/${held.body.id}`)).body).toMatchObject({
        status: 'released',
        free: 0,
      });
      expect((await api.call('GET', '/v1/capacity?flavor=m1.small')).body.total).toBe(before);
    });

    it.each([
      [{ flavor: 'm1.small', count: 0, endsAt: '2030-01-01T00:00:00Z' }, 'count', 'min'],
      [{ flavor: 'm1.small', count: 1, endsAt: '2020-01-01T00:00:00Z' }, 'endsAt', 'after'],
      [{ flavor: 'm1.small', count: 1, endsAt: 'soon' }, 'endsAt', 'isIso8601'],
      [{ flavor: 'm1.small', count: 1, kind: 'pod', endsAt: '2030-01-01T00:00:00Z' }, 'kind', 'isIn'],
    ])('refuses %j', async (body, field, rule) => {
      const res = await api.call('POST', '/v1/reservations', body);
      expect(res.status).toBe(400);
      expect(res.body.error.details).toContainEqual(expect.objectContaining({ field, rule }));
    });
  });

  describe('bulk create', () => {
    it.each([
      [{ count: 2, ip: '10.80.0.50' }, 'ip', 'single'],
      [{ count: 2, minCount: 1 }, 'count', 'exclusive'],
      [{ minCount: 3, maxCount: 2 }, 'maxCount', 'order'],
      [{ count: 101 }, 'count', 'max'],
      [{ count: 10, name: 'a'.repeat(62) }, 'name', 'length'],
    ])('refuses %j', async (extra, field, rule) => {
      const before = await api.counts();
      const res = await api.call('POST', '/v1/instances', { ...create, ...extra });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toContainEqual(expect.objectContaining({ field, rule }));
      expect(await api.counts()).toEqual(before);
    });

    it('names a request of several name-1 ... name-N, each with its own address and operation', async () => {
      const res = await api.call('POST', '/v1/instances', { ...create, name: 'shop', count: 3 });
      expect(res.status).toBe(202);
      expect(res.body.instances.map((b: any) => b.instance.name)).toEqual(['shop-1', 'shop-2', 'shop-3']);
      expect(new Set(res.body.instances.map((b: any) => b.instance.ip)).size).toBe(3);
      expect(new Set(res.body.instances.map((b: any) => b.operationId)).size).toBe(3);
      expect(res.body.instance).toEqual(res.body.instances[0].instance);
    });

    it('shrinks a maxCount request to the quota, but never below minCount', async () => {
      const project = (await api.call('POST', '/v1/projects', { name: 'small-shop' })).body;
      await api.call('PUT', `/v1/projects/${project.id}/quotas`, { instances: 4 });
      const some = await api.call('POST', '/v1/instances', {
        ...create,
        name: 'q',
        minCount: 2,
        maxCount: 6,
        project: project.id,
      });
      expect(some.body.instances).toHaveLength(4);
      const none = await api.call('POST', '/v1/instances', {
        ...create,
        name: 'r',
        minCount: 1,
        maxCount: 2,
        project: project.id,
      });
      expect(none.status).toBe(403);
      expect(none.body.error.quota).toEqual([{ resource: 'instances', limit: 4, used: 4, requested: 1 }]);
    });
  });

  describe('image pre-warm', () => {
    it('pulls onto named hosts or the hosts of a zone, with a step per host', async () => {
      const image = (await api.call('GET', '/v1/images')).body.items[0];
      const named = await api.call('POST', `/v1/images/${image.id}/prewarm`, { hosts: ['a1', 'a2'] });
      expect(named.status).toBe(202);
      const op = (await api.call('GET', `/v1/operations/${named.body.operationId}`)).body;
      expect(op.steps.map((s: any) => `${s.name}:${s.status}`)).toEqual(['pull a1:pending', 'pull a2:pending']);
      const zoned = await api.call('POST', `/v1/images/${image.id}/prewarm`, { zone: 'z1' });
      expect(
        (await api.call('GET', `/v1/operations/${zoned.body.operationId}`)).body.steps.map((s: any) => s.name),
      ).toEqual(['pull a1']);
      expect((await api.call('POST', `/v1/images/${image.id}/prewarm`, { hosts: ['ghost'] })).status).toBe(404);
      expect((await api.call('POST', `/v1/images/${image.id}/prewarm`, { zone: 'nowhere' })).status).toBe(409);
    });
  });
});
