import { computeQueue, jobId, type ComputeCommand, type ComputeCommandType } from '@berth/contracts';
import { MigrationWorkflow } from '@berth/control';
import { eventually, type TestApi } from '../api-harness';
import { hostFacts } from '../host-facts';
import { osClient } from '../openstack/os-client';
import { PlacementHarness } from './placement-harness';

// Nova's resize on Berth: the new size applies live on the instance's host and awaits verification with the old one
// still held there; hosts are played by the test, the API and the report store are real, on real PostgreSQL.

describe("a resize that awaits verification, as Nova's (real PostgreSQL)", () => {
  let h: PlacementHarness;
  let api: TestApi;
  let store: MigrationWorkflow;
  const tokens = { alice: '', eve: '' };
  const flavors = { one: '', two: '' };
  const { call, as, conforms } = osClient(() => api);
  const member = () => ({ authorization: `Bearer ${tokens.alice}` });

  beforeAll(async () => {
    h = await PlacementHarness.start();
    api = h.api;
    store = new MigrationWorkflow(api.dataSource, { maxInstancesPerHost: 50, downAfterSec: 60 }, 'registry.test:5000');
    await h.reports.heartbeat(
      hostFacts('pool', { vcpus: 2, cpuSharedSet: '4-5', pcpus: 4, cpuDedicatedSet: '0-3', ramMb: 8192 }),
    );
    await h.onlyHosts('pool');
    for (const [key, vcpus] of [
      ['one', 1],
      ['two', 2],
    ] as const) {
      const body = { name: `d1.${key}`, vcpus, ramMb: 128, diskGb: 1, cpuPolicy: 'dedicated' };
      flavors[key] = (await api.call('POST', '/v1/flavors', body)).body.id;
    }
    for (const [project, user] of [
      ['shop', 'alice'],
      ['bank', 'eve'],
    ] as const) {
      expect((await api.call('POST', '/v1/projects', { name: project })).status).toBe(201);
      await api.unlimitedQuota(project);
      expect((await api.call('POST', '/v1/users', { name: user })).status).toBe(201);
      tokens[user] = (await api.call('POST', '/v1/tokens', { user, project, role: 'member' })).body.token;
    }
  });
  afterAll(() => h.stop());

  const report = (operationId: string, instanceId: string, command: ComputeCommandType, ok = true) =>
    h.hostResult(operationId, instanceId, command, { ok });

  /** alice's instance of `flavor`, built and running on the pool. */
  async function running(name: string, flavor: 'd1.one' | 'd1.two'): Promise<string> {
    const { job, ids } = await h.create({ name, flavor }, member());
    await h.placement.place(job);
    await report(job.members[0]!.operationId, ids[0]!, 'instance.create');
    return ids[0]!;
  }

  /** Deletes the instance as its host would, giving its CPUs back to the pool for the next test. */
  async function remove(id: string): Promise<void> {
    const res = await api.call('DELETE', `/v1/instances/${id}`);
    expect(res.status).toBe(202);
    await report(res.body.operationId, id, 'instance.delete');
  }

  const act = (id: string, body: object, headers = member()) =>
    api.call('POST', `/v1/instances/${id}/actions`, body, headers);

  const pool = async () =>
    (
      await api.sql<{ pcpus: number; pinned: number[] }>(
        `SELECT used_pcpus AS pcpus, ARRAY(SELECT c FROM unnest(pinned_cpus) c ORDER BY c) AS pinned
           FROM hosts WHERE name = 'pool'`,
      )
    )[0]!;

  const lastMigration = async (id: string) => (await api.call('GET', `/v1/instances/${id}/migrations`)).body.items[0];

  const novaStatus = async (id: string) => {
    const res = await call('GET', `/compute/v2.1/servers/${id}`, undefined, as(tokens.alice));
    const server = conforms(res, 200, 'server').server;
    return { status: server.status, vm: server['OS-EXT-STS:vm_state'], task: server['OS-EXT-STS:task_state'] };
  };

  it('holds both sizes until the owner confirms, then gives the old one back at once', async () => {
    const id = await running('shrinks', 'd1.two');
    const before = await pool();
    const pinned: number[] = (await h.instance(id)).limits.pinnedCpus;

    const res = await act(id, { action: 'resize', flavor: 'd1.one', verify: true });
    expect(res.status).toBe(202);
    await report(res.body.operationId, id, 'instance.set-limits');
    const resized = await h.instance(id);
    expect(resized).toMatchObject({ status: 'VERIFY_MIGRATION', taskState: null, flavor: { name: 'd1.one' } });
    expect(resized.limits.pinnedCpus).toHaveLength(1);
    // The old size stays claimed for a revert: both CPUs are still the instance's.
    expect(await pool()).toEqual(before);
    expect(await lastMigration(id)).toMatchObject({
      kind: 'resize',
      status: 'finished',
      sourceHost: 'pool',
      targetHost: 'pool',
    });
    expect(await novaStatus(id)).toEqual({ status: 'VERIFY_RESIZE', vm: 'resized', task: null });
    expect((await api.call('DELETE', `/v1/instances/${id}`)).status).toBe(409);
    expect((await act(id, { action: 'set-limits', limits: { pidsLimit: 64 } })).status).toBe(409);

    const confirm = await act(id, { action: 'confirm' });
    expect(confirm.status).toBe(202);
    expect(await h.instance(id)).toMatchObject({ status: 'ACTIVE', taskState: null, flavor: { name: 'd1.one' } });
    const released = pinned.filter((c) => !resized.limits.pinnedCpus.includes(c));
    expect(released).toHaveLength(1);
    expect(await pool()).toEqual({
      pcpus: before.pcpus - 1,
      pinned: before.pinned.filter((c) => c !== released[0]),
    });
    expect(await lastMigration(id)).toMatchObject({ kind: 'resize', status: 'confirmed' });
    expect((await api.call('GET', `/v1/operations/${confirm.body.operationId}`)).body.status).toBe('succeeded');
    expect((await api.call('GET', '/v1/usage/audit')).body.hostDrift).toEqual([]);
    await remove(id);
  });

  it('reverts live to the old size within what it holds; a revert that fails leaves it awaiting verification', async () => {
    const id = await running('grows', 'd1.one');
    const before = await pool();
    const own: number[] = (await h.instance(id)).limits.pinnedCpus;

    const res = await act(id, { action: 'resize', flavor: 'd1.two', verify: true });
    expect(res.status).toBe(202);
    await report(res.body.operationId, id, 'instance.set-limits');
    expect(await h.instance(id)).toMatchObject({ status: 'VERIFY_MIGRATION', flavor: { name: 'd1.two' } });
    const grown = await pool();
    expect(grown.pcpus).toBe(before.pcpus + 1);

    const failing = await act(id, { action: 'revert' });
    expect(failing.status).toBe(202);
    expect(await h.instance(id)).toMatchObject({ status: 'VERIFY_MIGRATION', taskState: 'resizing' });
    expect(await novaStatus(id)).toEqual({ status: 'REVERT_RESIZE', vm: 'resized', task: 'resize_reverting' });
    const command = (
      await eventually(
        () => h.queue(computeQueue('pool')).getJob(jobId(failing.body.operationId, 'revert')),
        'the revert command',
      )
    ).data as ComputeCommand;
    expect(command).toMatchObject({
      type: 'instance.set-limits',
      instance: { limits: { vcpus: 1, pinnedCpus: own } },
      previous: { vcpus: 2 },
    });
    await report(failing.body.operationId, id, 'instance.set-limits', false);
    expect(await h.instance(id)).toMatchObject({
      status: 'VERIFY_MIGRATION',
      taskState: null,
      flavor: { name: 'd1.two' },
    });
    expect(await lastMigration(id)).toMatchObject({ kind: 'resize', status: 'finished' });
    expect(await pool()).toEqual(grown);
    expect((await api.call('GET', `/v1/operations/${failing.body.operationId}`)).body.status).toBe('failed');

    const revert = await act(id, { action: 'revert' });
    await report(revert.body.operationId, id, 'instance.set-limits');
    expect(await h.instance(id)).toMatchObject({
      status: 'ACTIVE',
      taskState: null,
      flavor: { name: 'd1.one' },
      limits: { vcpus: 1, pinnedCpus: own },
    });
    expect(await pool()).toEqual(before);
    expect(await lastMigration(id)).toMatchObject({ kind: 'resize', status: 'reverted' });
    expect((await api.call('GET', '/v1/usage/audit')).body.hostDrift).toEqual([]);
    await remove(id);
  });

  it('is confirmed by the scheduler once its window has passed', async () => {
    const id = await running('waits', 'd1.two');
    const before = await pool();
    const res = await act(id, { action: 'resize', flavor: 'd1.one', verify: true });
    await report(res.body.operationId, id, 'instance.set-limits');
    expect(await store.autoConfirm(3600)).toEqual([]);
    expect(await store.autoConfirm(0)).toEqual([id]);
    expect(await h.instance(id)).toMatchObject({ status: 'ACTIVE', taskState: null, flavor: { name: 'd1.one' } });
    expect((await pool()).pcpus).toBe(before.pcpus - 1);
    await remove(id);
  });

  it('answers another project 404, a migrate 403 and a confirm with nothing to confirm 409, changing nothing', async () => {
    const id = await running('guarded', 'd1.one');
    const stranger = { authorization: `Bearer ${tokens.eve}` };
    expect((await act(id, { action: 'resize', flavor: 'd1.two', verify: true }, stranger)).status).toBe(404);
    expect((await act(id, { action: 'confirm' }, stranger)).status).toBe(404);
    expect((await act(id, { action: 'migrate' })).status).toBe(403);
    expect((await act(id, { action: 'confirm' })).status).toBe(409);
    const bad = await act(id, { action: 'stop', verify: true });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([expect.objectContaining({ field: 'verify', rule: 'action' })]);
    expect(await h.instance(id)).toMatchObject({ status: 'ACTIVE', taskState: null, flavor: { name: 'd1.one' } });
    expect(await lastMigration(id)).toBeUndefined();
    await remove(id);
  });

  it("drives resize, confirmResize and revertResize through Nova's actions, and refuses what Nova refuses", async () => {
    const id = await running('nova', 'd1.one');
    const action = (body: unknown, token = tokens.alice) =>
      call('POST', `/compute/v2.1/servers/${id}/action`, body, as(token));

    const up = await action({ resize: { flavorRef: flavors.two } });
    expect(up.status).toBe(202);
    expect(await novaStatus(id)).toEqual({ status: 'RESIZE', vm: 'active', task: 'resize_prep' });
    const [op] = (await api.call('GET', '/v1/operations?action=instance.resize')).body.items.filter(
      (o: any) => o.targetId === id,
    );
    await report(op.id, id, 'instance.set-limits');
    expect(await novaStatus(id)).toEqual({ status: 'VERIFY_RESIZE', vm: 'resized', task: null });
    const confirmed = await action({ confirmResize: null });
    expect(confirmed.status).toBe(204);
    expect(await novaStatus(id)).toEqual({ status: 'ACTIVE', vm: 'active', task: null });
    expect((await h.instance(id)).flavor.name).toBe('d1.two');

    for (const [body, field, status] of [
      [{ resize: { flavorRef: flavors.two } }, 'resize.flavorRef', 400],
      [{ resize: {} }, 'resize.flavorRef', 400],
      [{ resize: { flavorRef: flavors.one, 'OS-DCF:diskConfig': 'BIG' } }, 'resize.OS-DCF:diskConfig', 400],
      [{ confirmResize: null }, 'action', 409],
      [{ revertResize: null }, 'action', 409],
    ] as const) {
      const res = await action(body);
      conforms(res, status, 'novaError');
      expect({ body, message: Object.values(res.body as object)[0].message }).toEqual({
        body,
        message: expect.stringContaining(field === 'action' ? 'awaiting verification' : field),
      });
    }
    conforms(await action({ migrate: null }), 403, 'novaError');
    conforms(await action({ migrate: { host: 'pool' } }, api.adminToken), 400, 'novaError');
    conforms(await action({ confirmResize: null }, tokens.eve), 404, 'novaError');

    const down = await action({ resize: { flavorRef: flavors.one } });
    expect(down.status).toBe(202);
    const [second] = (await api.call('GET', '/v1/operations?action=instance.resize')).body.items.filter(
      (o: any) => o.targetId === id && o.id !== op.id,
    );
    await report(second.id, id, 'instance.set-limits');
    expect((await action({ revertResize: null })).status).toBe(202);
    expect(await novaStatus(id)).toEqual({ status: 'REVERT_RESIZE', vm: 'resized', task: 'resize_reverting' });
    const [revert] = (await api.call('GET', '/v1/operations?action=instance.revert')).body.items.filter(
      (o: any) => o.targetId === id,
    );
    await report(revert.id, id, 'instance.set-limits');
    expect(await novaStatus(id)).toEqual({ status: 'ACTIVE', vm: 'active', task: null });
    expect((await h.instance(id)).flavor.name).toBe('d1.two');
  });
});
