import {
  computeQueue,
  jobId,
  type AppliedLimits,
  type ComputeCommand,
  type ComputeCommandType,
  type PlaceInstancesJob,
} from '@berth/contracts';
import { eventually, type TestApi } from '../api-harness';
import { hostFacts } from '../host-facts';
import { PlacementHarness } from './placement-harness';

/** What a host would read back: enough for the API to store and show. */
const applied = (cpuset: string): AppliedLimits => ({
  cpuset,
  cpus: null,
  ramMb: 128,
  pidsLimit: 1024,
  diskReadIops: null,
  diskWriteIops: null,
  diskReadBps: null,
  diskWriteBps: null,
  diskWeight: 100,
  netIngressMbps: null,
  netEgressMbps: null,
  procView: 'lxcfs',
  readAt: new Date().toISOString(),
});

describe('limits: flavors, overrides, the dedicated CPU pool and live resize claims (real PostgreSQL)', () => {
  let h: PlacementHarness;
  let api: TestApi;
  let member: Record<string, string>;

  beforeAll(async () => {
    h = await PlacementHarness.start();
    api = h.api;
    await h.reports.heartbeat(
      hostFacts('pool', { vcpus: 2, cpuSharedSet: '4-5', pcpus: 4, cpuDedicatedSet: '0-3', ramMb: 8192, lxcfs: true }),
    );
    await h.onlyHosts('pool');
    for (const flavor of [
      { name: 'd1.one', vcpus: 1, ramMb: 128, diskGb: 1, cpuPolicy: 'dedicated' },
      { name: 'd1.two', vcpus: 2, ramMb: 128, diskGb: 1, cpuPolicy: 'dedicated' },
      { name: 'd1.eight', vcpus: 8, ramMb: 128, diskGb: 1, cpuPolicy: 'dedicated' },
      {
        name: 'm1.bounded',
        vcpus: 1,
        ramMb: 128,
        diskGb: 1,
        netEgressMbps: 100,
        limitBounds: { netEgressMbps: { min: 10, max: 200 } },
      },
    ]) {
      expect((await api.call('POST', '/v1/flavors', flavor)).status).toBe(201);
    }
    expect((await api.call('POST', '/v1/projects', { name: 'shop' })).status).toBe(201);
    await api.unlimitedQuota('shop');
    expect((await api.call('POST', '/v1/users', { name: 'alice' })).status).toBe(201);
    const token = await api.call('POST', '/v1/tokens', { user: 'alice', project: 'shop', role: 'member' });
    member = { authorization: `Bearer ${token.body.token as string}` };
  });
  afterAll(() => h.stop());

  /** Places the job and plays the host's successful build report for each of its instances. */
  async function build(job: PlaceInstancesJob): Promise<void> {
    await h.placement.place(job);
    for (const m of job.members) {
      const instance = await h.instance(m.instanceId);
      if (instance.status !== 'BUILDING') continue;
      await report(m.operationId, m.instanceId, 'instance.create', true, applied('0'));
    }
  }

  const report = (
    operationId: string,
    instanceId: string,
    command: ComputeCommandType,
    ok: boolean,
    limits: AppliedLimits | null,
  ) => h.hostResult(operationId, instanceId, command, { ok, applied: limits });

  const hostUsage = async () =>
    (
      await api.sql<{ pcpus: number; pinned: number[]; vcpus: number; ramMb: number }>(
        `SELECT used_pcpus AS pcpus, ARRAY(SELECT c FROM unnest(pinned_cpus) c ORDER BY c) AS pinned,
                used_vcpus AS vcpus, used_ram_mb AS "ramMb" FROM hosts WHERE name = 'pool'`,
      )
    )[0];

  describe('flavors', () => {
    it('stores the CPU policy, throttles and bounds, and shows unset throttles as null', async () => {
      const res = await api.call('GET', '/v1/flavors');
      expect(res.body.items.find((f: any) => f.name === 'm1.bounded')).toMatchObject({
        cpuPolicy: 'shared',
        cpuQuota: null,
        pidsLimit: null,
        netEgressMbps: 100,
        diskWriteBps: null,
        limitBounds: { netEgressMbps: { min: 10, max: 200 } },
      });
    });

    it.each([
      [{ cpuQuota: 0 }, 'cpuQuota', 'min'],
      [{ pidsLimit: 70_000 }, 'pidsLimit', 'max'],
      [{ diskWriteBps: 1.5 }, 'diskWriteBps', 'isInt'],
      [{ cpuPolicy: 'exclusive' }, 'cpuPolicy', 'isIn'],
      [{ cpuPolicy: 'dedicated', cpuQuota: 50 }, 'cpuQuota', 'cpuPolicy'],
      [{ limitBounds: { netEgressMbps: { max: 10 } } }, 'limitBounds.netEgressMbps', 'contains'],
      [{ limitBounds: { cpuShares: { max: 2 } } }, 'limitBounds.cpuShares', 'known'],
      [{ limitBounds: [] }, 'limitBounds', 'isObject'],
      [{ netShaping: 5 }, 'netShaping', 'unknownField'],
    ])('refuses %j with 400 naming %s (%s), and creates nothing', async (extra, field, rule) => {
      const before = await api.counts();
      const res = await api.call('POST', '/v1/flavors', { name: 'bad', vcpus: 1, ramMb: 128, diskGb: 1, ...extra });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toContainEqual(expect.objectContaining({ field, rule }));
      expect(await api.counts()).toEqual(before);
    });
  });

  describe('per-instance overrides', () => {
    it("lets a member choose within the flavor's bounds and refuses the rest, naming the field", async () => {
      const { ids } = await h.create({ name: 'within', flavor: 'm1.bounded', limits: { netEgressMbps: 150 } }, member);
      expect((await h.instance(ids[0]!)).limits).toMatchObject({ netEgressMbps: 150, pidsLimit: 1024 });

      for (const [limits, field, rule] of [
        [{ netEgressMbps: 500 }, 'limits.netEgressMbps', 'bounds'],
        [{ netEgressMbps: null }, 'limits.netEgressMbps', 'bounds'],
        [{ diskWriteIops: 100 }, 'limits.diskWriteIops', 'fixed'],
        [{ pidsLimit: 8 }, 'limits.pidsLimit', 'min'],
        [{ cpuShares: 2 }, 'limits.cpuShares', 'known'],
      ] as const) {
        const before = await api.counts();
        const res = await api.call(
          'POST',
          '/v1/instances',
          { name: 'beyond', kind: 'container', flavor: 'm1.bounded', image: 'busybox', network: 'lan', limits },
          member,
        );
        expect({ limits, status: res.status }).toEqual({ limits, status: 400 });
        expect(res.body.error.details).toContainEqual(expect.objectContaining({ field, rule }));
        expect(await api.counts()).toEqual(before);
      }
    });

    it('lets the cloud admin set any value within the cloud-wide rules', async () => {
      const { ids } = await h.create({ name: 'admin-set', flavor: 'm1.bounded', limits: { diskWriteIops: 100 } });
      expect((await h.instance(ids[0]!)).limits).toMatchObject({ diskWriteIops: 100, netEgressMbps: 100 });
    });
  });

  describe('the dedicated CPU pool', () => {
    let ids: string[];
    let jobs: PlaceInstancesJob[];

    it('refuses a flavor no host could hold even empty with 409, and records nothing', async () => {
      const before = await api.counts();
      const res = await api.call('POST', '/v1/instances', {
        name: 'eight',
        kind: 'container',
        flavor: 'd1.eight',
        image: 'busybox',
        network: 'lan',
      });
      expect(res.status).toBe(409);
      expect(res.body.error.message).toContain('pcpus 8 (the most any host offers: 4)');
      expect(await api.counts()).toEqual(before);
    });

    it('gives four dedicated instances placed at once four distinct CPUs, and the fifth none', async () => {
      const created = await Promise.all([1, 2, 3, 4, 5].map((n) => h.create({ name: `ded-${n}`, flavor: 'd1.one' })));
      jobs = created.map((c) => c.job);
      ids = created.map((c) => c.ids[0]!);
      await Promise.all(jobs.map((job) => build(job)));
      const instances = await Promise.all(ids.map((id) => h.instance(id)));
      const placed = instances.filter((i) => i.status === 'ACTIVE');
      expect(placed).toHaveLength(4);
      expect(placed.flatMap((i) => i.limits.pinnedCpus).sort()).toEqual([0, 1, 2, 3]);
      const refused = instances.find((i) => i.status === 'ERROR');
      expect(refused.fault.message).toContain('pcpus needs 1, 0 free');
      expect(await hostUsage()).toMatchObject({ pcpus: 4, pinned: [0, 1, 2, 3], vcpus: 0 });

      // Each host command carries the CPUs the claim pinned for its instance.
      for (const [i, job] of jobs.entries()) {
        const instance = instances[i];
        if (instance.status !== 'ACTIVE') continue;
        const command = (
          await eventually(
            () => h.queue(computeQueue('pool')).getJob(jobId(job.members[0]!.operationId, 'create-pool')),
            'the build',
          )
        ).data as ComputeCommand;
        expect(command.instance.limits.pinnedCpus).toEqual(instance.limits.pinnedCpus);
      }
      ids = placed.map((i) => i.id);
    });

    it('refuses a live resize the pool has no CPU for (409, what is short), changing nothing', async () => {
      const before = await h.instance(ids[0]!);
      const usage = await hostUsage();
      const res = await api.call('POST', `/v1/instances/${ids[0]}/actions`, { action: 'resize', flavor: 'd1.two' });
      expect(res.status).toBe(409);
      expect(res.body.error.message).toContain('1 more dedicated CPUs (0 free)');
      expect(await h.instance(ids[0]!)).toMatchObject({ taskState: null, limits: before.limits });
      expect(await hostUsage()).toEqual(usage);
    });

    it('claims the growth at once, keeps both sizes claimed until the host reports, then gives back the rest', async () => {
      // Free one CPU: delete the last instance and play its host's report.
      const gone = ids[3]!;
      const freed = (await h.instance(gone)).limits.pinnedCpus[0];
      const del = await api.call('DELETE', `/v1/instances/${gone}`);
      await report(del.body.operationId, gone, 'instance.delete', true, null);
      expect((await hostUsage())?.pcpus).toBe(3);

      const id = ids[0]!;
      const own = (await h.instance(id)).limits.pinnedCpus[0];
      const up = await api.call('POST', `/v1/instances/${id}/actions`, { action: 'resize', flavor: 'd1.two' });
      expect(up.status).toBe(202);
      expect(await h.instance(id)).toMatchObject({ taskState: 'resizing', flavor: { name: 'd1.one' } });
      expect(await hostUsage()).toMatchObject({ pcpus: 4, pinned: [0, 1, 2, 3] });
      const again = await api.call('POST', `/v1/instances/${id}/actions`, {
        action: 'set-limits',
        limits: { pidsLimit: 64 },
      });
      expect(again.status).toBe(409);

      const command = (
        await eventually(() => h.queue(computeQueue('pool')).getJob(jobId(up.body.operationId, 'resize')), 'the resize')
      ).data as ComputeCommand;
      expect(command).toMatchObject({
        type: 'instance.set-limits',
        instance: { limits: { vcpus: 2, cpuPolicy: 'dedicated', pinnedCpus: [own, freed] } },
        previous: { vcpus: 1, pinnedCpus: [own] },
      });

      await report(up.body.operationId, id, 'instance.set-limits', true, applied(`${own},${freed}`));
      expect(await h.instance(id)).toMatchObject({
        status: 'ACTIVE',
        taskState: null,
        flavor: { name: 'd1.two', vcpus: 2 },
        limits: { vcpus: 2, pinnedCpus: [own, freed] },
        appliedLimits: { cpuset: `${own},${freed}` },
      });

      const down = await api.call('POST', `/v1/instances/${id}/actions`, { action: 'resize', flavor: 'd1.one' });
      expect(down.status).toBe(202);
      expect(await hostUsage()).toMatchObject({ pcpus: 4 });
      await report(down.body.operationId, id, 'instance.set-limits', true, applied(String(own)));
      expect((await h.instance(id)).limits.pinnedCpus).toEqual([own]);
      expect(await hostUsage()).toMatchObject({ pcpus: 3 });
      expect((await hostUsage())?.pinned).not.toContain(freed);

      // A change the host fails to apply gives its growth back; the instance keeps what it had.
      const failing = await api.call('POST', `/v1/instances/${id}/actions`, { action: 'resize', flavor: 'd1.two' });
      expect(await hostUsage()).toMatchObject({ pcpus: 4 });
      await report(failing.body.operationId, id, 'instance.set-limits', false, applied(String(own)));
      expect(await h.instance(id)).toMatchObject({
        status: 'ACTIVE',
        flavor: { name: 'd1.one' },
        limits: { pinnedCpus: [own] },
      });
      expect(await hostUsage()).toMatchObject({ pcpus: 3 });
      const op = await api.call('GET', `/v1/operations/${failing.body.operationId}`);
      expect(op.body).toMatchObject({ status: 'failed', fault: { step: 'limits' } });

      expect((await api.call('GET', '/v1/usage/audit')).body.hostDrift).toEqual([]);
    });
  });

  describe('set-limits', () => {
    it('holds a member to the bounds the instance was sold with, and applies a change within them', async () => {
      const { job, ids } = await h.create({ name: 'tuned', flavor: 'm1.bounded' }, member);
      await build(job);
      const id = ids[0]!;
      for (const [limits, field, rule] of [
        [{ netEgressMbps: 300 }, 'limits.netEgressMbps', 'bounds'],
        [{ diskWriteIops: 50 }, 'limits.diskWriteIops', 'fixed'],
      ] as const) {
        const res = await api.call('POST', `/v1/instances/${id}/actions`, { action: 'set-limits', limits }, member);
        expect(res.status).toBe(400);
        expect(res.body.error.details).toContainEqual(expect.objectContaining({ field, rule }));
        expect((await h.instance(id)).taskState).toBeNull();
      }
      const ok = await api.call(
        'POST',
        `/v1/instances/${id}/actions`,
        { action: 'set-limits', limits: { netEgressMbps: 50 } },
        member,
      );
      expect(ok.status).toBe(202);
      await report(ok.body.operationId, id, 'instance.set-limits', true, applied('4-5'));
      expect((await h.instance(id)).limits).toMatchObject({ netEgressMbps: 50, cpuPolicy: 'shared', pinnedCpus: [] });
    });

    it("refuses what the host's driver does not claim to do (409 naming the capability), changing nothing", async () => {
      const { job, ids } = await h.create({ name: 'capless', flavor: 'm1.bounded' }, member);
      await build(job);
      const id = ids[0]!;
      const pool = { vcpus: 2, cpuSharedSet: '4-5', pcpus: 4, cpuDedicatedSet: '0-3', ramMb: 8192, lxcfs: true };
      const operations = async () => (await api.sql('SELECT count(*)::int AS n FROM operations'))[0];
      try {
        await h.reports.heartbeat(hostFacts('pool', { ...pool, capabilities: { container: ['cold-migrate'] } }));
        const before = await operations();
        const live = await api.call(
          'POST',
          `/v1/instances/${id}/actions`,
          { action: 'set-limits', limits: { netEgressMbps: 60 } },
          member,
        );
        expect(live.status).toBe(409);
        expect(live.body.error.details).toEqual([expect.objectContaining({ field: 'action', rule: 'capability' })]);
        expect(live.body.error.message).toContain('capability live-resize');
        await h.reports.heartbeat(hostFacts('pool', { ...pool, capabilities: { container: ['live-resize'] } }));
        const move = await api.call('POST', `/v1/instances/${id}/actions`, { action: 'migrate' });
        expect(move.status).toBe(409);
        expect(move.body.error.message).toContain('capability cold-migrate');
        expect(await operations()).toEqual(before);
        expect(await h.instance(id)).toMatchObject({ status: 'ACTIVE', taskState: null });
        await h.reports.heartbeat(
          hostFacts('pool', { ...pool, capabilities: { container: ['live-resize', 'cold-migrate'] } }),
        );
        const ok = await api.call(
          'POST',
          `/v1/instances/${id}/actions`,
          { action: 'set-limits', limits: { netEgressMbps: 60 } },
          member,
        );
        expect(ok.status).toBe(202);
        await report(ok.body.operationId, id, 'instance.set-limits', true, applied('4-5'));
      } finally {
        await h.reports.heartbeat(hostFacts('pool', pool));
      }
    });

    it('claims a higher pids limit on the host at once, refuses one the host cannot give (409 naming pids), and gives a lower one back', async () => {
      const { job, ids } = await h.create({ name: 'forker' });
      await build(job);
      const id = ids[0]!;
      const pids = async () =>
        (
          await api.sql<{ used: number; allocated: number }>(
            `SELECT used_pids AS used, (SELECT pids FROM allocations WHERE instance_id = $1) AS allocated
               FROM hosts WHERE name = 'pool'`,
            [id],
          )
        )[0]!;
      const before = await pids();
      expect(before.allocated).toBe(1024);
      // The host offers 1000 pids more than its instances hold.
      await h.reports.heartbeat(
        hostFacts('pool', {
          vcpus: 2,
          cpuSharedSet: '4-5',
          pcpus: 4,
          cpuDedicatedSet: '0-3',
          ramMb: 8192,
          lxcfs: true,
          pids: before.used + 1000,
        }),
      );
      const setPids = (pidsLimit: number) =>
        api.call('POST', `/v1/instances/${id}/actions`, { action: 'set-limits', limits: { pidsLimit } });
      const refused = await setPids(1024 + 1001);
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toContain('1001 more pids (1000 free)');
      expect(await pids()).toEqual(before);
      expect((await h.instance(id)).taskState).toBeNull();

      const grown = await setPids(2024);
      expect(grown.status).toBe(202);
      expect(await pids()).toEqual({ used: before.used + 1000, allocated: 2024 });
      await report(grown.body.operationId, id, 'instance.set-limits', true, applied('4-5'));
      const shrunk = await setPids(512);
      expect(shrunk.status).toBe(202);
      // A shrink is given back once the host confirms it: until then the container may still use the old limit.
      expect(await pids()).toEqual({ used: before.used + 1000, allocated: 2024 });
      await report(shrunk.body.operationId, id, 'instance.set-limits', true, applied('4-5'));
      expect(await pids()).toEqual({ used: before.used - 512, allocated: 512 });
    });

    it("answers 404 for another project's instance, before looking at the flavor", async () => {
      const { ids } = await h.create({ name: 'admins' });
      const res = await api.call(
        'POST',
        `/v1/instances/${ids[0]}/actions`,
        { action: 'resize', flavor: 'nope' },
        member,
      );
      expect(res.status).toBe(404);
      expect(res.body.error.message).toContain('instance');
    });
  });
});
