import type { DataSource, EntityManager } from 'typeorm';
import { insertMigration } from '../moves/moves';
import { insertOperation } from '../operations/operations';
import { aHost, anInstance, aProject, hostFacts } from '../testing/fixtures';
import { freshDatabase, type FreshDatabase } from '../testing/fresh-database';
import { hostRow, hostRows, updateHost } from './host-rows';
import { addCachedImage, disableHost, hostLiveness, newIncarnation, upsertHost } from './hosts';
import { rememberStrays, takeStraysDue, unownedAmong } from './strays';

/** The hosts' rows against real PostgreSQL: heartbeats, operators' changes, restarts and strays, read back. */
describe('hosts (rows, real PostgreSQL)', () => {
  let db: FreshDatabase;
  let ds: DataSource;
  let projectId: string;

  const tx = <T>(work: (m: EntityManager) => Promise<T>) => ds.transaction(work);

  beforeAll(async () => {
    db = await freshDatabase('hosts');
    ds = db.dataSource;
    projectId = await aProject(ds, 'hosts-tenant');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("makes a host on its first heartbeat with the ratios given, then refreshes its facts and keeps an operator's ratios", async () => {
    const id = await aHost(ds, 'hb-host', { capabilities: { container: ['live-resize'] }, confinement: ['userns'] });
    expect(await hostRow(ds.manager, 60, id)).toMatchObject({
      name: 'hb-host',
      state: 'up',
      enabled: true,
      capacity: { vcpus: 4, pcpus: 2, ramMb: 4096, diskGb: 100, pids: 100000 },
      allocationRatios: { cpu: 1, ram: 1, disk: 1 },
      cpuSets: { shared: '0-3', dedicated: [6, 7] },
      confinement: ['userns'],
      capabilities: { container: ['live-resize'] },
      usage: { instances: 0, pinnedCpus: [] },
    });
    expect(await tx((m) => updateHost(m, id, { cpuRatio: 4, zone: 'rack-2' }))).toBe(true);
    await tx((m) =>
      upsertHost(m, hostFacts('hb-host', { vcpus: 8, agentVersion: 'next' }), { cpu: 16, ram: 1, disk: 1 }),
    );
    expect(await hostRow(ds.manager, 60, id)).toMatchObject({
      capacity: { vcpus: 8 },
      agentVersion: 'next',
      zone: 'rack-2',
      allocationRatios: { cpu: 4 },
    });
    expect(await tx((m) => updateHost(m, '00000000-0000-4000-8000-000000000000', { enabled: false }))).toBe(false);
  });

  it('says a host is down after its silence passes down-after, and keeps why it was disabled', async () => {
    const id = await aHost(ds, 'quiet-host');
    await ds.query(`UPDATE hosts SET last_heartbeat_at = now() - interval '2 minutes' WHERE id = $1`, [id]);
    expect(await hostLiveness(ds.manager, id, 60)).toEqual({ name: 'quiet-host', up: false });
    expect(await hostLiveness(ds.manager, id, 600)).toEqual({ name: 'quiet-host', up: true });
    await tx((m) => disableHost(m, id, 'draining'));
    const listed = (await hostRows(ds.manager, 60)).find((h) => h.id === id);
    expect(listed).toMatchObject({ state: 'down', enabled: false, disabledReason: 'draining' });
  });

  it('caches an image reference once, and tells a restarted agent from one that only beat again', async () => {
    const id = await aHost(ds, 'cache-host');
    await tx((m) => addCachedImage(m, 'cache-host', 'reg/app:1'));
    await tx((m) => addCachedImage(m, 'cache-host', 'reg/app:1'));
    expect((await hostRow(ds.manager, 60, id))?.cachedImages).toEqual(['reg/app:1']);
    expect(await tx((m) => newIncarnation(m, 'cache-host', 'boot-1'))).toBe(id);
    expect(await tx((m) => newIncarnation(m, 'cache-host', 'boot-1'))).toBeNull();
    expect(await tx((m) => newIncarnation(m, 'cache-host', 'boot-2'))).toBe(id);
  });

  it('remembers strays no record owns, forgets those gone, and sends each for removal once per grace', async () => {
    const hostId = await aHost(ds, 'stray-host');
    const owned = await anInstance(ds, { projectId, name: 'owned', hostId });
    const moving = await anInstance(ds, { projectId, name: 'moving', hostId });
    const operationId = await tx((m) =>
      insertOperation(
        m,
        { projectId, userId: null, requestId: null },
        { action: 'instance.migrate', targetType: 'instance', targetId: moving.instanceId },
      ),
    );
    await tx((m) =>
      insertMigration(m, {
        instanceId: moving.instanceId,
        operationId,
        sourceHostId: hostId,
        requestedHost: null,
        wasRunning: true,
        parentOperationId: null,
        autoConfirm: false,
        kind: 'migration',
        lost: null,
        resize: null,
      }),
    );
    await ds.query(`UPDATE instances SET host_id = NULL WHERE id = $1`, [moving.instanceId]);
    const gone = '11111111-1111-4111-8111-111111111111';
    const alsoGone = '22222222-2222-4222-8222-222222222222';
    // Neither an instance placed here nor one in an open move is a stray.
    expect(await unownedAmong(ds.manager, [owned.instanceId, moving.instanceId, gone])).toEqual([gone]);
    expect(await tx((m) => rememberStrays(m, hostId, [gone, alsoGone]))).toEqual([gone, alsoGone]);
    expect(await tx((m) => rememberStrays(m, hostId, [gone]))).toEqual([]);
    expect(await tx((m) => takeStraysDue(m, hostId, 3600))).toEqual([]);
    await ds.query(`UPDATE host_strays SET first_seen_at = now() - interval '2 hours' WHERE host_id = $1`, [hostId]);
    expect(await tx((m) => takeStraysDue(m, hostId, 3600))).toEqual([gone]);
    expect(await tx((m) => takeStraysDue(m, hostId, 3600))).toEqual([]);
  });
});
