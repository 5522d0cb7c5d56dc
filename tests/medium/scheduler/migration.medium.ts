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

  describe('with volumes attached', () => {
    /** An in-use volume of `gb` on `host`, attached to the instance, holding its own claim on the host's disk. */
    async function attachedVolume(instanceId: string, host: string, gb: number): Promise<string> {
      const [row] = await h.api.sql<{ id: string }>(
        `INSERT INTO volumes (project_id, name, size_gb, type_id, backend, status, host_id, instance_id, attach_path, serial)
         SELECT i.project_id, 'moving', $3, t.id, 'file', 'in-use', h.id, i.id, '/data', 'moving'
           FROM instances i, volume_types t, hosts h WHERE i.id = $1 AND t.name = 'local' AND h.name = $2
         RETURNING id`,
        [instanceId, host, gb],
      );
      await h.api.sql(
        `WITH a AS (INSERT INTO allocations (volume_id, host_id, vcpus, pcpus, ram_mb, disk_gb, pids)
                    SELECT $1, host_id, 0, 0, 0, $2, 0 FROM volumes WHERE id = $1 RETURNING host_id)
         UPDATE hosts SET used_disk_gb = used_disk_gb + $2 WHERE id = (SELECT host_id FROM a)`,
        [row!.id, gb],
      );
      return row!.id;
    }
    const disk = async (host: string) =>
      (await h.api.sql<{ used: number }>('SELECT used_disk_gb AS used FROM hosts WHERE name = $1', [host]))[0]?.used;
    const volumeHost = async (id: string) => (await h.api.call('GET', `/v1/volumes/${id}`)).body.host as string;
    const noDrift = async () => {
      const [drift] = await h.api.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM hosts h
          WHERE used_disk_gb <> (SELECT coalesce(sum(disk_gb), 0) FROM allocations a WHERE a.host_id = h.id)`,
      );
      expect(drift?.n).toBe(0);
    };
    /** Migrates to m2 and plays the source's snapshot (exporting the volume) and the target's fetch and receive. */
    async function movedToM2(id: string, volume: string) {
      const res = await h.api.call('POST', `/v1/instances/${id}/actions`, { action: 'migrate', host: 'm2' });
      expect(res.status).toBe(202);
      const job = await eventually(
        () => h.queue(PLACEMENT_QUEUE).getJob(jobId(res.body.operationId, 'migrate')),
        'the job',
      );
      // The target must offer the volume's backend, and room for it besides the instance's own disk.
      expect((job.data as MigrateInstanceJob).request).toMatchObject({ diskGb: 1 + 5, volumeBackends: ['file'] });
      await conductor.migrate(job.data as MigrateInstanceJob);
      const [record] = (await h.api.call('GET', `/v1/instances/${id}/migrations`)).body.items;
      const base = resultOf(res.body.operationId, record.id, id, new Date().toISOString());
      const exported = { volumeId: volume, path: `/pool/${volume}.raw`, sha256: 'a'.repeat(64), bytes: 5 * 1024 ** 3 };
      const snapshot = { ...base, command: 'migration.snapshot' as const, powerState: 'SHUTDOWN' as const };
      expect(await store.apply({ ...snapshot, volumes: [exported] })).toBe('send');
      const fetch = await eventually(
        () => h.queue(computeQueue('m2')).getJob(jobId(res.body.operationId, 'migration.fetch-m2')),
        'the fetch command',
      );
      expect(fetch.data).toMatchObject({ volumes: [exported], peer: { port: 22 } });
      expect(await store.apply({ ...base, command: 'migration.fetch', powerState: 'NOSTATE' })).toBe('send');
      expect(await store.apply({ ...base, command: 'migration.receive', powerState: 'RUNNING' })).toBe('finished');
      return { record, base };
    }

    beforeAll(async () => {
      for (const name of ['m1', 'm2']) {
        await reports.heartbeat(
          hostFacts(name, { vcpus: 8, cpuSharedSet: '0-7', ramMb: 1024, diskGb: 100, volumeBackends: ['file'] }),
        );
      }
    });

    it('moves them with the instance: claimed on the target, recorded there once the source let its copies go', async () => {
      const id = await activeOn('m1', 'with-volume');
      const volume = await attachedVolume(id, 'm1', 5);
      const before = { m1: await disk('m1'), m2: await disk('m2') };
      const { record, base } = await movedToM2(id, volume);
      // Landed, not yet confirmed: the target holds the instance and room for its volume, the source still its copy.
      expect(await disk('m2')).toBe(before.m2! + 1 + 5);
      expect(await volumeHost(volume)).toBe('m1');
      const confirm = await h.api.call('POST', `/v1/instances/${id}/actions`, { action: 'confirm' });
      const drop = await eventually(
        () => h.queue(computeQueue('m1')).getJob(jobId(confirm.body.operationId, 'migration.drop-m1')),
        'the drop command',
      );
      expect(drop.data).toMatchObject({ dropVolumes: true });
      const dropped = { ...base, operationId: confirm.body.operationId, command: 'migration.drop' as const };
      expect(await store.apply({ ...dropped, powerState: 'NOSTATE' })).toBe('confirmed');
      expect(record.id).toBeTruthy();
      expect(await volumeHost(volume)).toBe('m2');
      expect((await h.api.call('GET', `/v1/volumes/${volume}`)).body).toMatchObject({
        status: 'in-use',
        attachment: { instanceId: id },
      });
      expect(await disk('m1')).toBe(before.m1! - 1 - 5);
      expect(await disk('m2')).toBe(before.m2! + 1 + 5);
      await noDrift();
    });

    it('keeps them on the source when the move is reverted, and the target drops its copies', async () => {
      const id = await activeOn('m1', 'with-volume-back');
      const volume = await attachedVolume(id, 'm1', 5);
      const before = { m1: await disk('m1'), m2: await disk('m2') };
      const { base } = await movedToM2(id, volume);
      const revert = await h.api.call('POST', `/v1/instances/${id}/actions`, { action: 'revert' });
      const drop = await eventually(
        () => h.queue(computeQueue('m2')).getJob(jobId(revert.body.operationId, 'migration.drop-m2')),
        'the drop command',
      );
      expect(drop.data).toMatchObject({ dropVolumes: true });
      const ended = { ...base, operationId: revert.body.operationId };
      expect(await store.apply({ ...ended, command: 'migration.drop', powerState: 'NOSTATE' })).toBe('send');
      expect(await store.apply({ ...ended, command: 'migration.restore', powerState: 'RUNNING' })).toBe('reverted');
      expect(await volumeHost(volume)).toBe('m1');
      expect(await h.instance(id)).toMatchObject({ status: 'ACTIVE', host: 'm1' });
      expect({ m1: await disk('m1'), m2: await disk('m2') }).toEqual(before);
      await noDrift();
    });

    it('finds no target that offers no volumes, naming the backend', async () => {
      await reports.heartbeat(
        hostFacts('m2', { vcpus: 8, cpuSharedSet: '0-7', ramMb: 1024, diskGb: 100, volumeBackends: [] }),
      );
      try {
        const id = await activeOn('m1', 'with-volume-stuck');
        await attachedVolume(id, 'm1', 5);
        const res = await h.api.call('POST', `/v1/instances/${id}/actions`, { action: 'migrate' });
        const job = await eventually(
          () => h.queue(PLACEMENT_QUEUE).getJob(jobId(res.body.operationId, 'migrate')),
          'the job',
        );
        await conductor.migrate(job.data as MigrateInstanceJob);
        const [record] = (await h.api.call('GET', `/v1/instances/${id}/migrations`)).body.items;
        expect(record).toMatchObject({ status: 'error', failedStep: 'schedule' });
        expect(record.fault.message).toContain('m2: VolumeBackend: host offers no file volumes');
        expect(await h.instance(id)).toMatchObject({ status: 'ACTIVE', host: 'm1' });
      } finally {
        await reports.heartbeat(
          hostFacts('m2', { vcpus: 8, cpuSharedSet: '0-7', ramMb: 1024, diskGb: 100, volumeBackends: ['file'] }),
        );
      }
    });
  });
});
