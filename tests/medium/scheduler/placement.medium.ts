import { computeQueue, jobId, type ComputeCommand, type HostFacts } from '@berth/contracts';
import type { ReportWorkflow } from '@berth/control';
import type { PlacementService } from '../../../apps/scheduler/src/placement/placement-service';
import { eventually, type TestApi } from '../api-harness';
import { hostFacts } from '../host-facts';
import { PlacementHarness } from './placement-harness';

const facts = (name: string, ramMb: number, over: Partial<HostFacts> = {}): HostFacts =>
  hostFacts(name, { vcpus: 64, cpuSharedSet: '0-63', ramMb, diskGb: 1000, ...over });

describe('placement on real PostgreSQL', () => {
  let h: PlacementHarness;
  let api: TestApi;
  let placement: PlacementService;
  let reports: ReportWorkflow;

  beforeAll(async () => {
    h = await PlacementHarness.start();
    ({ api, placement, reports } = h);
  });
  afterAll(() => h.stop());

  const queue = (name: string) => h.queue(name);
  const onlyHosts = (...names: string[]) => h.onlyHosts(...names);
  const create = (body: Record<string, unknown>) => h.create(body);
  const instance = (id: string) => h.instance(id);
  const usage = async (name: string) =>
    (
      await api.sql<{ used: number; allocated: number; instances: number }>(
        `SELECT used_ram_mb AS used, used_instances AS instances,
                (SELECT coalesce(sum(a.ram_mb), 0)::int FROM allocations a WHERE a.host_id = h.id) AS allocated
           FROM hosts h WHERE name = $1`,
        [name],
      )
    )[0];

  it('explains "no valid host" host by host', async () => {
    // Large enough when empty (else the API refuses the flavor outright), but 192 MB are taken.
    await reports.heartbeat(facts('small', 256));
    await api.sql(`UPDATE hosts SET used_ram_mb = 192 WHERE name = 'small'`);
    await onlyHosts('small');
    const { job, ids } = await create({ name: 'nowhere' });
    await placement.place(job);
    expect(await instance(ids[0]!)).toMatchObject({
      status: 'ERROR',
      taskState: null,
      fault: {
        step: 'schedule',
        message: 'No valid host: small: Capacity: ramMb needs 128, 64 free',
        reason: 'Capacity',
      },
    });
  });

  it('claims on the roomiest host and sends that host the full spec, with alternates kept', async () => {
    await reports.heartbeat(facts('roomy', 4096));
    await reports.heartbeat(facts('second', 2048));
    await onlyHosts('roomy', 'second');
    const { job, ids } = await create({ name: 'placed' });
    await placement.place(job);
    const placed = await instance(ids[0]!);
    expect(placed).toMatchObject({ status: 'BUILDING', taskState: 'spawning', host: 'roomy' });
    expect(await usage('roomy')).toEqual({ used: 128, allocated: 128, instances: 1 });
    const [alt] = await api.sql<{ alternates: string[] }>('SELECT alternates FROM instances WHERE id = $1', [ids[0]]);
    const [second] = await api.sql<{ id: string }>(`SELECT id FROM hosts WHERE name = 'second'`);
    expect(alt?.alternates).toEqual([second?.id]);

    const command = (
      await eventually(
        () => queue(computeQueue('roomy')).getJob(jobId(job.members[0]!.operationId, 'create-roomy')),
        'the build',
      )
    ).data as ComputeCommand;
    expect(command.instance).toMatchObject({
      id: ids[0],
      name: 'placed',
      limits: { ramMb: 128, vcpus: 1, cpuPolicy: 'shared', pinnedCpus: [] },
      port: { ip: placed.ip, mac: placed.mac, vlan: 100 },
    });

    await placement.place(job); // a redelivered job finds nothing left to do
    expect(await usage('roomy')).toEqual({ used: 128, allocated: 128, instances: 1 });
  });

  it('never overbooks: 12 parallel placements into room for 5', async () => {
    await reports.heartbeat(facts('five', 640));
    await onlyHosts('five');
    const jobs = await Promise.all(Array.from({ length: 12 }, (_, i) => create({ name: `race-${i}` })));
    await Promise.all(jobs.map((j) => placement.place(j.job)));
    const states = await api.sql(
      `SELECT status, count(*)::int AS n FROM instances WHERE name LIKE 'race-%' GROUP BY status ORDER BY status`,
    );
    expect(states).toEqual([
      { status: 'BUILDING', n: 5 },
      { status: 'ERROR', n: 7 },
    ]);
    expect(await usage('five')).toEqual({ used: 640, allocated: 640, instances: 5 });
  });

  describe('requests of several instances', () => {
    beforeAll(async () => {
      await reports.heartbeat(facts('three', 384));
    });

    it('places none of count=5 when only 3 fit (all or nothing)', async () => {
      await onlyHosts('three');
      const { job, ids } = await create({ name: 'all', count: 5 });
      await placement.place(job);
      for (const id of ids) {
        expect(await instance(id)).toMatchObject({
          status: 'ERROR',
          fault: { message: expect.stringContaining('(needed 5, 3 fitted)') },
        });
      }
      expect(await usage('three')).toEqual({ used: 0, allocated: 0, instances: 0 });
    });

    it('places 3 of minCount=2, maxCount=5 and drops the other 2 (best effort)', async () => {
      await onlyHosts('three');
      const { job, ids } = await create({ name: 'some', minCount: 2, maxCount: 5 });
      expect(ids).toHaveLength(5);
      await placement.place(job);
      const results = await Promise.all(ids.map(async (id) => (await api.call('GET', `/v1/instances/${id}`)).status));
      expect(results.filter((s) => s === 200)).toHaveLength(3);
      expect(results.filter((s) => s === 404)).toHaveLength(2);
      expect(await usage('three')).toEqual({ used: 384, allocated: 384, instances: 3 });
      const ops = await api.sql<{ status: string; n: number }>(
        `SELECT status, count(*)::int AS n FROM operations WHERE target_id = ANY ($1) AND action = 'instance.create' GROUP BY status ORDER BY status`,
        [ids],
      );
      expect(ops).toEqual([
        { status: 'failed', n: 2 },
        { status: 'running', n: 3 },
      ]);
      await api.sql(`DELETE FROM allocations WHERE host_id = (SELECT id FROM hosts WHERE name = 'three')`);
      await api.sql(
        `UPDATE hosts SET used_ram_mb = 0, used_vcpus = 0, used_disk_gb = 0, used_instances = 0 WHERE name = 'three'`,
      );
    });
  });

  it('claims pids like vCPUs: a burst that would overcommit the host’s pids is refused naming pids', async () => {
    // Room for 20 of m1.tiny by RAM, but for two by pids: 2500 offered, each container's limit the default 1024.
    await reports.heartbeat(facts('forks', 128 * 20, { pidMax: 2500 + 4096, pids: 2500 }));
    await onlyHosts('forks');
    const burst = await create({ name: 'fb', count: 3 });
    await placement.place(burst.job);
    for (const id of burst.ids) {
      expect(await instance(id)).toMatchObject({
        status: 'ERROR',
        fault: {
          message: expect.stringMatching(/^No valid host.*Capacity: pids needs 1024, 452 free.*\(needed 3, 2 fitted\)/),
        },
      });
    }
    const pids = async () =>
      (
        await api.sql<{ used: number; allocated: number }>(
          `SELECT used_pids AS used, (SELECT coalesce(sum(a.pids), 0)::int FROM allocations a WHERE a.host_id = h.id) AS allocated
             FROM hosts h WHERE name = 'forks'`,
        )
      )[0];
    expect(await pids()).toEqual({ used: 0, allocated: 0 });
    const two = await create({ name: 'fits', count: 2 });
    await placement.place(two.job);
    for (const id of two.ids) expect(await instance(id)).toMatchObject({ status: 'BUILDING', host: 'forks' });
    expect(await pids()).toEqual({ used: 2048, allocated: 2048 });
    const host = (await api.call('GET', '/v1/hosts')).body.items.find((x: any) => x.name === 'forks');
    expect(host.capacity.pids).toBe(2500);
    expect(host.usage.pids).toBe(2048);
  });

  describe('server groups', () => {
    beforeAll(async () => {
      for (const name of ['g1', 'g2', 'g3']) await reports.heartbeat(facts(name, 8192));
    });

    it('hard anti-affinity with more members than hosts places one per host and fails the rest cleanly', async () => {
      await onlyHosts('g1', 'g2');
      await api.call('POST', '/v1/server-groups', { name: 'apart', policy: 'anti-affinity' });
      const jobs = [];
      for (let i = 0; i < 3; i += 1) jobs.push(await create({ name: `apart-${i}`, serverGroup: 'apart' }));
      await Promise.all(jobs.map((j) => placement.place(j.job)));
      const members = (await api.call('GET', '/v1/server-groups')).body.items[0].members as Array<{
        host: string | null;
      }>;
      expect(
        members
          .map((m) => m.host)
          .filter(Boolean)
          .sort(),
      ).toEqual(['g1', 'g2']);
      const failed = (await Promise.all(jobs.map((j) => instance(j.ids[0]!)))).filter((i) => i.status === 'ERROR');
      expect(failed).toHaveLength(1);
      expect(failed[0].fault.message).toMatch(
        /ServerGroup: a member of server group apart already runs here \(anti-affinity\)/,
      );
    });

    it('anti-affinity asked for 3 at once on 2 hosts fails all three (all or nothing)', async () => {
      await onlyHosts('g1', 'g2');
      await api.call('POST', '/v1/server-groups', { name: 'batch-apart', policy: 'anti-affinity' });
      const { job, ids } = await create({ name: 'ba', count: 3, serverGroup: 'batch-apart' });
      await placement.place(job);
      for (const id of ids) expect((await instance(id)).status).toBe('ERROR');
    });

    it('soft anti-affinity spreads five members over three hosts as far as it can', async () => {
      await onlyHosts('g1', 'g2', 'g3');
      await api.call('POST', '/v1/server-groups', { name: 'spread', policy: 'soft-anti-affinity' });
      const { job } = await create({ name: 'sp', count: 5, serverGroup: 'spread' });
      await placement.place(job);
      const members = (await api.call('GET', '/v1/server-groups')).body.items.find((g: any) => g.name === 'spread')
        .members as Array<{ host: string }>;
      const perHost = new Map<string, number>();
      for (const m of members) perHost.set(m.host, (perHost.get(m.host) ?? 0) + 1);
      expect([...perHost.values()].sort()).toEqual([1, 2, 2]);
    });
  });

  describe('reschedule', () => {
    it('rebuilds on an alternate when the build fails, and gives up with every host failure listed', async () => {
      for (const name of ['r1', 'r2']) await reports.heartbeat(facts(name, 1024));
      await onlyHosts('r1', 'r2');
      const { job, ids } = await create({ name: 'flaky' });
      const id = ids[0]!;
      const op = job.members[0]!.operationId;
      await placement.place(job);
      const first = (await instance(id)).host as string;
      const fail = async (message: string) => {
        const fault = { step: 'network', message, at: new Date().toISOString() };
        const rescheduled = await placement.rescheduleFailedBuild(id, op, fault);
        if (!rescheduled) {
          await reports.result({
            v: 1,
            type: 'instance.result',
            operationId: op,
            instanceId: id,
            command: 'instance.create',
            powerState: 'NOSTATE',
            at: fault.at,
            fault,
          });
        }
        return rescheduled;
      };
      expect(await fail('veth refused')).toBe(true);
      const second = await instance(id);
      expect(second).toMatchObject({ status: 'BUILDING', taskState: 'spawning' });
      expect(second.host).not.toBe(first);
      expect(await usage(first)).toEqual({ used: 0, allocated: 0, instances: 0 });
      expect((await usage(second.host))?.instances).toBe(1);

      expect(await fail('disk full')).toBe(false);
      const failed = await instance(id);
      expect(failed).toMatchObject({ status: 'ERROR', host: null });
      expect(failed.fault.message).toBe(
        `the build failed on every host tried: ${first}: network: veth refused; ${second.host}: network: disk full`,
      );
      for (const name of ['r1', 'r2']) expect(await usage(name)).toEqual({ used: 0, allocated: 0, instances: 0 });
    });
  });

  describe('reservations', () => {
    it('hold their capacity against a burst from another project, and serve their own', async () => {
      await reports.heartbeat(facts('peak', 1280));
      await onlyHosts('peak');
      const shop = (await api.call('POST', '/v1/projects', { name: 'shop' })).body;
      await api.unlimitedQuota('shop');
      const reservation = await api.call('POST', '/v1/reservations', {
        flavor: 'm1.tiny',
        count: 6,
        project: shop.id,
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      });
      expect(reservation.status).toBe(201);
      expect(reservation.body).toMatchObject({ count: 6, free: 6, slots: [{ host: 'peak', slots: 6 }] });

      const burst = await Promise.all(Array.from({ length: 10 }, (_, i) => create({ name: `other-${i}` })));
      await Promise.all(burst.map((b) => placement.place(b.job)));
      const others = await Promise.all(burst.map((b) => instance(b.ids[0]!)));
      expect(others.filter((i) => i.status === 'BUILDING')).toHaveLength(4);
      expect(others.filter((i) => i.status === 'ERROR')).toHaveLength(6);

      const draws = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          create({ name: `shop-${i}`, project: shop.id, reservation: reservation.body.id }),
        ),
      );
      await Promise.all(draws.map((d) => placement.place(d.job)));
      const drawn = await Promise.all(draws.map((d) => instance(d.ids[0]!)));
      expect(drawn.every((i) => i.status === 'BUILDING' && i.host === 'peak')).toBe(true);
      expect((await api.call('GET', `/v1/reservations/${reservation.body.id}`)).body).toMatchObject({ free: 0 });
      expect(await usage('peak')).toEqual({ used: 1280, allocated: 1280, instances: 10 });
    });
  });
});
