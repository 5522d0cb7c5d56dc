import type { Fault } from '@berth/contracts';
import { statusFollowingPower } from '@berth/domain';
import type { DataSource, EntityManager } from 'typeorm';
import { insertOperation } from '../operations/operations';
import { one } from '../sql';
import { aHost, aNetwork, anInstance, aProject } from '../testing/fixtures';
import { freshDatabase, type FreshDatabase } from '../testing/fresh-database';
import { placedInstances } from './instance-record';
import {
  backToScheduling,
  buildFailuresOf,
  endTask,
  failUnplaced,
  lockBuild,
  lockIdleInstancesOn,
  lockUnplaced,
  setSpawning,
} from './instance-tasks';
import { instanceRecord, liveInstance, liveInstances, setFailed, setPlaced, settleByPower } from './instances';
import { markInstanceDeleted } from './lifecycle';

/** The instances' rows against real PostgreSQL: each change read back through the record the API and hosts see. */
describe('instances (rows, real PostgreSQL)', () => {
  let db: FreshDatabase;
  let ds: DataSource;
  let projectId: string;
  let otherProject: string;
  let hostId: string;
  let networkId: string;

  const tx = <T>(work: (m: EntityManager) => Promise<T>) => ds.transaction(work);
  const fault = (step: string): Fault => ({ step, message: `${step} broke`, at: new Date().toISOString() });

  beforeAll(async () => {
    db = await freshDatabase('instances');
    ds = db.dataSource;
    projectId = await aProject(ds, 'inst-tenant');
    otherProject = await aProject(ds, 'inst-other');
    hostId = await aHost(ds, 'inst-host');
    networkId = await aNetwork(ds, 'inst-net', 301);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('reads a new instance back whole: flavor, image, its port on the network, BUILDING until placed', async () => {
    const { instanceId, portId } = await anInstance(ds, {
      projectId,
      name: 'reader',
      port: { networkId, ip: '10.1.45.20', mac: '02:be:00:00:01:01' },
    });
    expect(await liveInstance(ds.manager, instanceId, projectId)).toMatchObject({
      id: instanceId,
      name: 'reader',
      kind: 'container',
      status: 'BUILDING',
      taskState: 'scheduling',
      hostId: null,
      flavorName: 'm1.tiny',
      vcpus: 1,
      ramMb: 64,
      imageRef: 'busybox',
      portId,
      networkName: 'inst-net',
      vlan: 301,
      ip: '10.1.45.20',
      mac: '02:be:00:00:01:01',
      prefixLength: 24,
      gateway: '10.1.45.1',
      securityGroups: [],
    });
    // Another project's token sees nothing, as if it did not exist; the admin (null) sees it.
    expect(await liveInstance(ds.manager, instanceId, otherProject)).toBeNull();
    expect(await liveInstance(ds.manager, instanceId, null)).not.toBeNull();
  });

  it('pages live instances in creation order after an id, within the project', async () => {
    const made = [];
    for (const name of ['page-a', 'page-b', 'page-c'])
      made.push((await anInstance(ds, { projectId: otherProject, name })).instanceId);
    const first = await liveInstances(ds.manager, otherProject, { limit: 2 });
    expect(first.map((r) => r.id)).toEqual(made.slice(0, 2));
    const next = await liveInstances(ds.manager, otherProject, { limit: 2, afterId: made[1] });
    expect(next.map((r) => r.id)).toEqual([made[2]]);
  });

  it('places a build on a host with alternates, sends it back to scheduling with the failure kept, and fails it unplaced', async () => {
    const altHost = await aHost(ds, 'inst-alt');
    const { instanceId } = await anInstance(ds, { projectId, name: 'builder' });
    expect(await tx((m) => lockUnplaced(m, instanceId))).toBe(true);
    await tx((m) => setSpawning(m, instanceId, { hostId, alternates: [altHost], pinnedCpus: [] }));
    expect(await tx((m) => lockUnplaced(m, instanceId))).toBe(false);
    expect(await tx((m) => lockBuild(m, instanceId))).toEqual({
      taskState: 'spawning',
      hostId,
      hostName: 'inst-host',
      alternates: [altHost],
    });
    const failure = { host: 'inst-host', step: 'image.pull', message: 'no such image', at: new Date().toISOString() };
    await tx((m) => backToScheduling(m, instanceId, failure));
    expect(await buildFailuresOf(ds.manager, instanceId)).toEqual({ failures: [failure], host: null });
    await tx((m) => failUnplaced(m, instanceId, fault('scheduling')));
    expect(await instanceRecord(ds.manager, instanceId)).toMatchObject({
      status: 'ERROR',
      taskState: null,
      fault: { step: 'scheduling' },
    });
    // Only a build still waiting for a host can fail unplaced: ERROR stays ERROR with its first fault.
    await tx((m) => failUnplaced(m, instanceId, fault('later')));
    expect((await instanceRecord(ds.manager, instanceId))?.fault?.step).toBe('scheduling');
  });

  it('ends a task: a successful build launches, a failed one leaves its host; status follows power when idle', async () => {
    const { instanceId } = await anInstance(ds, { projectId, name: 'ender' });
    await tx((m) => setSpawning(m, instanceId, { hostId, alternates: [], pinnedCpus: [] }));
    await tx((m) =>
      endTask(m, instanceId, {
        status: 'ACTIVE',
        powerState: 'RUNNING',
        fault: null,
        leftHost: false,
        launched: true,
        applied: null,
      }),
    );
    const active = await instanceRecord(ds.manager, instanceId);
    expect(active).toMatchObject({ status: 'ACTIVE', taskState: null, powerState: 'RUNNING', hostName: 'inst-host' });
    expect(active?.launchedAt).not.toBeNull();
    await tx((m) =>
      setPlaced(m, instanceId, {
        hostId,
        pinnedCpus: [],
        powerState: 'SHUTDOWN',
        status: 'ACTIVE',
        taskState: 'powering-off',
        applied: undefined,
      }),
    );
    await tx((m) => settleByPower(m, instanceId, statusFollowingPower));
    expect(await instanceRecord(ds.manager, instanceId)).toMatchObject({ status: 'SHUTOFF', taskState: null });
    await tx((m) => setFailed(m, instanceId, fault('restart'), 'CRASHED'));
    expect(await instanceRecord(ds.manager, instanceId)).toMatchObject({ status: 'ERROR', powerState: 'CRASHED' });
    await tx((m) =>
      endTask(m, instanceId, {
        status: 'ERROR',
        powerState: 'NOSTATE',
        fault: fault('build'),
        leftHost: true,
        launched: false,
        applied: undefined,
      }),
    );
    expect(await instanceRecord(ds.manager, instanceId)).toMatchObject({ hostId: null, fault: { step: 'build' } });
  });

  it("lists the host's idle instances for the power sync, leaving out busy ones and other kinds", async () => {
    const idle = await anInstance(ds, {
      projectId,
      name: 'idle',
      hostId,
      port: { networkId, ip: '10.1.45.22', mac: '02:be:00:00:01:03' },
    });
    const busy = await anInstance(ds, { projectId, name: 'busy', hostId });
    const found = await tx((m) => lockIdleInstancesOn(m, 'inst-host', ['container'], [busy.instanceId]));
    expect(found.map((r) => r.id)).toContain(idle.instanceId);
    expect(found.map((r) => r.id)).not.toContain(busy.instanceId);
    expect(await tx((m) => lockIdleInstancesOn(m, 'inst-host', ['vm'], []))).toEqual([]);
    // Only placed instances with a port get a firewall: busy has no port.
    const placed = await placedInstances(ds.manager, [idle.instanceId, busy.instanceId]);
    expect(placed.map((r) => [r.id, r.hostName])).toEqual([[idle.instanceId, 'inst-host']]);
  });

  it('marks a deleted instance: port and address freed, other running operations on it interrupted, its own kept', async () => {
    const { instanceId } = await anInstance(ds, {
      projectId,
      name: 'doomed',
      hostId,
      port: { networkId, ip: '10.1.45.21', mac: '02:be:00:00:01:02' },
    });
    const actor = { projectId, userId: null, requestId: null };
    const other = await tx((m) =>
      insertOperation(m, actor, { action: 'instance.reboot', targetType: 'instance', targetId: instanceId }),
    );
    const own = await tx((m) =>
      insertOperation(m, actor, { action: 'instance.delete', targetType: 'instance', targetId: instanceId }),
    );
    await tx((m) => markInstanceDeleted(m, instanceId, own));
    expect(await liveInstance(ds.manager, instanceId, null)).toBeNull();
    expect(await instanceRecord(ds.manager, instanceId)).toMatchObject({
      status: 'DELETED',
      hostId: null,
      portId: null,
      ip: null,
      powerState: 'NOSTATE',
    });
    const status = async (id: string) =>
      (await one<{ status: string; step: string | null }>(
        ds.manager,
        `SELECT status, fault->>'step' AS step FROM operations WHERE id = $1`,
        [id],
      ))!;
    expect(await status(other)).toEqual({ status: 'failed', step: 'interrupted' });
    expect(await status(own)).toEqual({ status: 'running', step: null });
  });
});
