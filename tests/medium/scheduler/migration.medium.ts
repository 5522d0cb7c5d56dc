import { computeQueue, jobId, MIGRATE_INSTANCE, PLACEMENT_QUEUE, type MigrateInstanceJob } from '@berth/contracts';
import { MigrationWorkflow, type ReportWorkflow, PlacementWorkflow } from '@berth/control';
import { DEFAULT_POLICY_OPTIONS, schedulerPolicy } from '@berth/domain';
import { createLogger } from '@berth/platform';
import { MigrationService } from '../../../apps/scheduler/src/migration/migration-service';
import { HostStateCache } from '../../../apps/scheduler/src/placement/host-cache';
import { eventually } from '../api-harness';
import { hostFacts } from '../host-facts';
import { PlacementHarness } from './placement-harness';

// The API's and the conductor's side of a migration on real PostgreSQL and Redis, hosts played by the test.

/** What a host reports for one step of a migration, without the step's own fields. */
const resultOf = (operationId: string, migrationId: string, instanceId: string, at: string) => ({
  v: 1 as const,
  type: 'migration.result' as const,
  operationId,
  migrationId,
  instanceId,
  at,
});

describe('migrations on real PostgreSQL', () => {
  let h: PlacementHarness;
  let reports: ReportWorkflow;
  let conductor: MigrationService;
  let store: MigrationWorkflow;
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    h = await PlacementHarness.start();
    ({ reports } = h);
    const limits = { maxInstancesPerHost: 50, downAfterSec: 60 };
    store = new MigrationWorkflow(h.api.dataSource, limits, 'registry.test:5000');
    const placementStore = new PlacementWorkflow(h.api.dataSource, limits);
    conductor = new MigrationService(
      store,
      placementStore,
      new HostStateCache(placementStore, -1),
      schedulerPolicy({ ...DEFAULT_POLICY_OPTIONS, subsetSize: 1 }),
      createLogger('test', 'silent'),
    );
    for (const name of ['m1', 'm2']) {
      await reports.heartbeat(hostFacts(name, { vcpus: 8, cpuSharedSet: '0-7', ramMb: 1024, diskGb: 100 }));
    }
  });
  afterAll(() => h.stop());

  async function activeOn(host: string, name: string): Promise<string> {
    await h.onlyHosts(host);
    const id = await h.activeInstance(name);
    await h.onlyHosts('m1', 'm2');
    return id;
  }

  const usage = async (host: string) =>
    (
      await h.api.sql<{ ram: number; n: number }>(
        `SELECT used_ram_mb AS ram, used_instances AS n FROM hosts WHERE name = $1`,
        [host],
      )
    )[0];

  it('answers a member 403 for their own instance and 404 for another project, and changes nothing', async () => {
    const id = await activeOn('m1', 'owned');
    await h.api.call('POST', '/v1/projects', { name: 'shop' });
    for (const user of ['bob', 'eve']) await h.api.call('POST', '/v1/users', { name: user });
    const member = (await h.api.call('POST', '/v1/tokens', { user: 'bob', project: 'admin', role: 'member' })).body
      .token;
    const stranger = (await h.api.call('POST', '/v1/tokens', { user: 'eve', project: 'shop', role: 'member' })).body
      .token;
    const own = await h.api.call('POST', `/v1/instances/${id}/actions`, { action: 'migrate' }, as(member));
    expect(own.status).toBe(403);
    const other = await h.api.call('POST', `/v1/instances/${id}/actions`, { action: 'migrate' }, as(stranger));
    expect(other.status).toBe(404);
    expect((await h.api.call('GET', `/v1/instances/${id}/migrations`, undefined, as(member))).status).toBe(403);
    expect(await h.instance(id)).toMatchObject({ status: 'ACTIVE', taskState: null });
    expect((await h.api.call('GET', `/v1/instances/${id}/migrations`)).body.items).toEqual([]);
  });

  it('refuses a host that is not a name, and host or flavor on the wrong action, with 400 naming the field', async () => {
    const id = await activeOn('m1', 'bad-input');
    for (const [body, field] of [
      [{ action: 'migrate', host: '../etc' }, 'host'],
      [{ action: 'migrate', host: 'x; rm -rf /' }, 'host'],
      [{ action: 'migrate', flavor: 'm1.tiny' }, 'flavor'],
      [{ action: 'stop', host: 'm2' }, 'host'],
      [{ action: 'confirm', host: 'm2' }, 'host'],
    ] as const) {
      const res = await h.api.call('POST', `/v1/instances/${id}/actions`, body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body.error.details.map((d: any) => d.field)).toContain(field);
    }
    expect(await h.instance(id)).toMatchObject({ status: 'ACTIVE', taskState: null });
  });

  it('claims on the target, holds the source for the migration, refuses delete; a failed snapshot puts all back once', async () => {
    const id = await activeOn('m1', 'held');
    const res = await h.api.call('POST', `/v1/instances/${id}/actions`, { action: 'migrate' });
    expect(res.status).toBe(202);
    expect(await h.instance(id)).toMatchObject({ status: 'MIGRATING', taskState: 'migrating' });
    expect((await h.api.call('DELETE', `/v1/instances/${id}`)).status).toBe(409);
    const job = await eventually(
      () => h.queue(PLACEMENT_QUEUE).getJob(jobId(res.body.operationId, 'migrate')),
      'the job',
    );
    expect(job.name).toBe(MIGRATE_INSTANCE);
    const before = { m1: await usage('m1'), m2: await usage('m2') };
    await conductor.migrate(job.data as MigrateInstanceJob);
    // Both hosts hold its size: the target for the instance, the source for the migration record.
    expect(await usage('m2')).toEqual({ ram: before.m2!.ram + 128, n: before.m2!.n + 1 });
    expect(await usage('m1')).toEqual(before.m1);
    const [record] = (await h.api.call('GET', `/v1/instances/${id}/migrations`)).body.items;
    expect(record).toMatchObject({ status: 'pre-migrating', sourceHost: 'm1', targetHost: 'm2' });
    const snapshot = await eventually(
      () => h.queue(computeQueue('m1')).getJob(jobId(res.body.operationId, 'migration.snapshot-m1')),
      'the snapshot command',
    );
    expect(snapshot.data).toMatchObject({
      type: 'migration.snapshot',
      snapshotRef: `registry.test:5000/berth-snapshots/${id}:${record.id}`,
      instance: { id },
    });

    // The snapshot fails on the source: the conductor asks the source to restore, then puts it back.
    const at = new Date().toISOString();
    const fault = { step: 'push', message: 'registry refused', at };
    const base = resultOf(res.body.operationId, record.id, id, at);
    expect(await store.apply({ ...base, command: 'migration.snapshot', powerState: 'SHUTDOWN', fault })).toBe('send');
    expect(await store.apply({ ...base, command: 'migration.snapshot', powerState: 'SHUTDOWN', fault })).toBe('ignore');
    expect(await store.apply({ ...base, command: 'migration.restore', powerState: 'RUNNING' })).toBe('reverted');
    expect(await h.instance(id)).toMatchObject({ status: 'ACTIVE', host: 'm1', taskState: null });
    expect(await usage('m2')).toEqual(before.m2);
    expect(await usage('m1')).toEqual(before.m1);
    const [failed] = (await h.api.call('GET', `/v1/instances/${id}/migrations`)).body.items;
    expect(failed).toMatchObject({ status: 'error', failedStep: 'push', fault: { message: 'registry refused' } });
    const op = (await h.api.call('GET', `/v1/operations/${res.body.operationId}`)).body;
    expect(op).toMatchObject({ status: 'failed', fault: { step: 'push' } });
    const [drift] = await h.api.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM hosts h
        WHERE used_ram_mb <> (SELECT coalesce(sum(ram_mb), 0) FROM allocations a WHERE a.host_id = h.id)`,
    );
    expect(drift?.n).toBe(0);
  });

  it('ends in error with the reason, the instance where it was, when no host takes it', async () => {
    const id = await activeOn('m1', 'nowhere');
    await h.onlyHosts('m1');
    const res = await h.api.call('POST', `/v1/instances/${id}/actions`, { action: 'migrate' });
    const job = await eventually(
      () => h.queue(PLACEMENT_QUEUE).getJob(jobId(res.body.operationId, 'migrate')),
      'the job',
    );
    await conductor.migrate(job.data as MigrateInstanceJob);
    await h.onlyHosts('m1', 'm2');
    expect(await h.instance(id)).toMatchObject({ status: 'ACTIVE', host: 'm1', taskState: null });
    const [record] = (await h.api.call('GET', `/v1/instances/${id}/migrations`)).body.items;
    expect(record).toMatchObject({ status: 'error', failedStep: 'schedule' });
    expect(record.fault.message).toMatch(/^No valid host: m2: ComputeEnabled/);
  });

  it('walks to VERIFY_MIGRATION on the target, and an automatic confirm releases the source', async () => {
    const id = await activeOn('m1', 'walker');
    const before = { m1: await usage('m1'), m2: await usage('m2') };
    const res = await h.api.call('POST', `/v1/instances/${id}/actions`, { action: 'migrate', host: 'm2' });
    const job = await eventually(
      () => h.queue(PLACEMENT_QUEUE).getJob(jobId(res.body.operationId, 'migrate')),
      'the job',
    );
    await conductor.migrate(job.data as MigrateInstanceJob);
    const [record] = (await h.api.call('GET', `/v1/instances/${id}/migrations`)).body.items;
    const at = new Date().toISOString();
    const base = resultOf(res.body.operationId, record.id, id, at);
    expect(await store.apply({ ...base, command: 'migration.snapshot', powerState: 'SHUTDOWN' })).toBe('send');
    expect(await store.apply({ ...base, command: 'migration.fetch', powerState: 'NOSTATE' })).toBe('send');
    const receive = await eventually(
      () => h.queue(computeQueue('m2')).getJob(jobId(res.body.operationId, 'migration.receive-m2')),
      'the receive command',
    );
    expect(receive.data.instance.imageRef).toBe(record.snapshotRef);
    expect(receive.data.powerOn).toBe(true);
    expect(await store.apply({ ...base, command: 'migration.receive', powerState: 'RUNNING' })).toBe('finished');
    expect(await h.instance(id)).toMatchObject({ status: 'VERIFY_MIGRATION', host: 'm2', taskState: null });
    expect((await h.api.call('GET', `/v1/operations/${res.body.operationId}`)).body.status).toBe('succeeded');
    // A migration is the admin's to end, even for the instance's owner (only a resize is theirs).
    const owner = (await h.api.call('POST', '/v1/tokens', { user: 'bob', project: 'admin', role: 'member' })).body;
    for (const action of ['confirm', 'revert']) {
      const ended = await h.api.call('POST', `/v1/instances/${id}/actions`, { action }, as(owner.token));
      expect({ action, status: ended.status }).toEqual({ action, status: 403 });
    }
    expect(await h.instance(id)).toMatchObject({ status: 'VERIFY_MIGRATION', taskState: null });

    expect(await store.autoConfirm(3600)).toEqual([]);
    expect(await store.autoConfirm(0)).toEqual([id]);
    expect(await h.instance(id)).toMatchObject({ status: 'VERIFY_MIGRATION', taskState: 'confirming' });
    const [confirming] = (await h.api.call('GET', `/v1/operations?action=instance.confirm`)).body.items.filter(
      (o: any) => o.targetId === id,
    );
    expect(confirming).toMatchObject({ status: 'running', requestId: 'auto-confirm' });
    const drop = await eventually(
      () => h.queue(computeQueue('m1')).getJob(jobId(confirming.id, 'migration.drop-m1')),
      'the drop command',
    );
    expect(drop.data).toMatchObject({ forgetSnapshot: true });
    const done = {
      ...base,
      operationId: confirming.id,
      command: 'migration.drop' as const,
      powerState: 'NOSTATE' as const,
    };
    expect(await store.apply(done)).toBe('confirmed');
    expect(await h.instance(id)).toMatchObject({ status: 'ACTIVE', host: 'm2', taskState: null });
    expect(await usage('m1')).toEqual({ ram: before.m1!.ram - 128, n: before.m1!.n - 1 });
    expect(await usage('m2')).toEqual({ ram: before.m2!.ram + 128, n: before.m2!.n + 1 });
  });
});
