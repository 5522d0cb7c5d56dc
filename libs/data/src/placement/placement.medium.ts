import type { InstanceSpec } from '@berth/contracts';
import type { Resources } from '@berth/domain';
import type { DataSource, EntityManager } from 'typeorm';
import { insertOperation } from '../operations/operations';
import { takeOutboxBatch } from '../operations/outbox';
import { one } from '../sql';
import { aHost, anInstance, aProject } from '../testing/fixtures';
import { freshDatabase, type FreshDatabase } from '../testing/fresh-database';
import { claimOnHost, growAllocation, releaseAllocations, shrinkAllocation } from './allocations';
import { claimBuild, type BuildClaim } from './claim-statement';
import { hostsReadyFor, largestHost, loadHostState } from './host-state';
import { lockHostUsage, setHostUsage } from './usage';

/**
 * Placement's rows against real PostgreSQL: a claim, a growth and a release move the host's counters and its
 * pinned CPUs together with the allocation, and a claim that does not fit changes nothing.
 */
describe('placement (allocations and host counters, real PostgreSQL)', () => {
  let db: FreshDatabase;
  let ds: DataSource;
  let projectId: string;

  const tx = <T>(work: (m: EntityManager) => Promise<T>) => ds.transaction(work);
  const limits = { maxInstancesPerHost: 100, downAfterSec: 60 };
  const size = (change: Partial<Resources>): Resources => ({
    vcpus: 0,
    pcpus: 0,
    ramMb: 64,
    diskGb: 1,
    pids: 100,
    ...change,
  });

  async function counters(hostId: string) {
    return one<{ vcpus: number; pcpus: number; ramMb: number; pids: number; instances: number; pinned: number[] }>(
      ds.manager,
      `SELECT used_vcpus AS vcpus, used_pcpus AS pcpus, used_ram_mb AS "ramMb", used_pids AS pids,
              used_instances AS instances, pinned_cpus AS pinned FROM hosts WHERE id = $1`,
      [hostId],
    );
  }

  beforeAll(async () => {
    db = await freshDatabase('placement');
    ds = db.dataSource;
    projectId = await aProject(ds, 'placement-tenant');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('claims dedicated CPUs lowest first, never the same twice, and refuses a claim past the dedicated set', async () => {
    const hostId = await aHost(ds, 'claim-host');
    const a = await anInstance(ds, { projectId, name: 'pin-a' });
    const b = await anInstance(ds, { projectId, name: 'pin-b' });
    const c = await anInstance(ds, { projectId, name: 'pin-c' });
    expect(await tx((m) => claimOnHost(m, { instanceId: a.instanceId }, hostId, size({ pcpus: 1 }), limits))).toEqual([
      6,
    ]);
    expect(await tx((m) => claimOnHost(m, { instanceId: b.instanceId }, hostId, size({ pcpus: 1 }), limits))).toEqual([
      7,
    ]);
    expect(
      await tx((m) => claimOnHost(m, { instanceId: c.instanceId }, hostId, size({ pcpus: 1 }), limits)),
    ).toBeNull();
    expect(await counters(hostId)).toEqual({ vcpus: 0, pcpus: 2, ramMb: 128, pids: 200, instances: 2, pinned: [6, 7] });
    // Released, its CPU and counters return; the next claim takes that CPU.
    await tx((m) => releaseAllocations(m, { instanceId: a.instanceId }));
    expect(await counters(hostId)).toEqual({ vcpus: 0, pcpus: 1, ramMb: 64, pids: 100, instances: 1, pinned: [7] });
    expect(await tx((m) => claimOnHost(m, { instanceId: c.instanceId }, hostId, size({ pcpus: 1 }), limits))).toEqual([
      6,
    ]);
  });

  it('refuses a claim on a host that is down, disabled, out of pids, or past its ratio', async () => {
    const hostId = await aHost(ds, 'refusing-host', { pids: 150 });
    const { instanceId } = await anInstance(ds, { projectId, name: 'refused' });
    const claim = (r: Resources) => tx((m) => claimOnHost(m, { instanceId }, hostId, r, limits));
    expect(await claim(size({ vcpus: 1, pids: 200 }))).toBeNull();
    expect(await claim(size({ vcpus: 5 }))).toBeNull();
    await ds.query(`UPDATE hosts SET enabled = false WHERE id = $1`, [hostId]);
    expect(await claim(size({ vcpus: 1 }))).toBeNull();
    await ds.query(`UPDATE hosts SET enabled = true, last_heartbeat_at = now() - interval '5 minutes' WHERE id = $1`, [
      hostId,
    ]);
    expect(await claim(size({ vcpus: 1 }))).toBeNull();
    expect(await counters(hostId)).toMatchObject({ vcpus: 0, instances: 0, pids: 0 });
    await ds.query(`UPDATE hosts SET last_heartbeat_at = now() WHERE id = $1`, [hostId]);
    expect(await claim(size({ vcpus: 1 }))).toEqual([]);
    expect((await loadHostState(ds.manager, 60, hostId))?.used).toMatchObject({ vcpus: 1, pids: 100 });
  });

  it("grows an instance's claim in place and shrinks it back, CPUs with it", async () => {
    const hostId = await aHost(ds, 'grow-host');
    const { instanceId } = await anInstance(ds, { projectId, name: 'grower' });
    expect(await tx((m) => claimOnHost(m, { instanceId }, hostId, size({ vcpus: 1 }), limits))).toEqual([]);
    expect(
      await tx((m) => growAllocation(m, instanceId, hostId, size({ pcpus: 2, ramMb: 128, diskGb: 0, pids: 0 }), 60)),
    ).toEqual([6, 7]);
    expect(
      await tx((m) => growAllocation(m, instanceId, hostId, size({ pcpus: 1, ramMb: 0, diskGb: 0, pids: 0 }), 60)),
    ).toBeNull();
    expect(await counters(hostId)).toMatchObject({ vcpus: 1, pcpus: 2, ramMb: 192, pinned: [6, 7] });
    await tx((m) => shrinkAllocation(m, instanceId, hostId, size({ pcpus: 1, ramMb: 128, diskGb: 0, pids: 0 }), [6]));
    expect(await counters(hostId)).toMatchObject({ vcpus: 1, pcpus: 1, ramMb: 64, pinned: [7] });
    const allocation = await one<{ pcpus: number; pinned: number[] }>(
      ds.manager,
      'SELECT pcpus, pinned_cpus AS pinned FROM allocations WHERE instance_id = $1',
      [instanceId],
    );
    expect(allocation).toEqual({ pcpus: 1, pinned: [7] });
  });

  it('reads counters beside the sums of allocations, and sets them right (the usage audit)', async () => {
    const hostId = await aHost(ds, 'audit-host');
    const { instanceId } = await anInstance(ds, { projectId, name: 'audited' });
    await tx((m) => claimOnHost(m, { instanceId }, hostId, size({ vcpus: 2, pcpus: 1 }), limits));
    await ds.query(`UPDATE hosts SET used_vcpus = 9, pinned_cpus = '{}', used_pcpus = 0 WHERE id = $1`, [hostId]);
    const drifted = (await tx((m) => lockHostUsage(m))).find((h) => h.id === hostId)!;
    expect(drifted.recorded).toMatchObject({ vcpus: 9, pcpus: 0, pinnedCpus: [] });
    expect(drifted.actual).toEqual({
      vcpus: 2,
      pcpus: 1,
      ramMb: 64,
      diskGb: 1,
      pids: 100,
      instances: 1,
      pinnedCpus: [6],
    });
    await tx((m) => setHostUsage(m, hostId, drifted.actual));
    expect(await counters(hostId)).toEqual({ vcpus: 2, pcpus: 1, ramMb: 64, pids: 100, instances: 1, pinned: [6] });
  });

  it('names the hosts ready for a kind and the largest room among the enabled ones that run it', async () => {
    await aHost(ds, 'vm-small', { drivers: ['vm'], vcpus: 2 });
    await aHost(ds, 'vm-big', { drivers: ['vm'], vcpus: 8, ramMb: 8192 });
    const off = await aHost(ds, 'vm-off', { drivers: ['vm'], vcpus: 16 });
    await ds.query(`UPDATE hosts SET enabled = false WHERE id = $1`, [off]);
    const ready = new Map((await hostsReadyFor(ds.manager, 'vm', 60)).map((h) => [h.name, h.ready]));
    expect([ready.get('vm-small'), ready.get('vm-big'), ready.get('vm-off'), ready.get('claim-host')]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    const room = await largestHost(ds.manager, 'vm', size({ vcpus: 4 }));
    expect(room).toEqual({
      hosts: 2,
      fitting: 1,
      most: { vcpus: 8, pcpus: 2, ramMb: 8192, diskGb: 100, pids: 100000 },
    });
  });

  it('claims a build in one statement: allocation, placement, step and command together, or nothing', async () => {
    const hostId = await aHost(ds, 'build-host', { pcpus: 1, cpuDedicatedSet: '5' });
    const { instanceId } = await anInstance(ds, { projectId, name: 'built' });
    const operationId = await tx((m) =>
      insertOperation(
        m,
        { projectId, userId: null, requestId: null },
        { action: 'instance.create', targetType: 'instance', targetId: instanceId },
      ),
    );
    // The statement writes the pinned CPUs into whatever spec it is given; its shape is the workflow's business.
    const spec = { id: instanceId, limits: {} } as unknown as InstanceSpec;
    const claim = (id: string, host = { id: hostId, name: 'build-host' }): BuildClaim => ({
      instanceId: id,
      operationId,
      host,
      alternates: [],
      resources: size({ pcpus: 1 }),
      reservationId: null,
    });
    expect(await claimBuild(ds.manager, claim(instanceId), spec, limits)).toBe('claimed');
    expect(await counters(hostId)).toMatchObject({ pcpus: 1, instances: 1, pinned: [5] });
    expect(
      await one(ds.manager, `SELECT task_state AS "taskState", pinned_cpus AS pinned FROM instances WHERE id = $1`, [
        instanceId,
      ]),
    ).toEqual({
      taskState: 'spawning',
      pinned: [5],
    });
    const [command] = await tx((m) => takeOutboxBatch(m, 10));
    expect(command).toMatchObject({ queue: expect.stringContaining('build-host'), jobName: 'instance.create' });
    expect(command?.payload).toMatchObject({ operationId, instance: { limits: { pinnedCpus: [5] } } });
    // Claimed once: a second claim finds it gone; another instance finds the host full, and nothing is written.
    expect(await claimBuild(ds.manager, claim(instanceId), spec, limits)).toBe('gone');
    const other = await anInstance(ds, { projectId, name: 'not-built' });
    expect(await claimBuild(ds.manager, claim(other.instanceId), spec, limits)).toBe('host-full');
    expect(await counters(hostId)).toMatchObject({ pcpus: 1, instances: 1, pinned: [5] });
    expect(await tx((m) => takeOutboxBatch(m, 10))).toEqual([]);
    const allocations = await one<{ n: number }>(
      ds.manager,
      'SELECT count(*)::int AS n FROM allocations WHERE instance_id = $1',
      [other.instanceId],
    );
    expect(allocations?.n).toBe(0);
  });
});
