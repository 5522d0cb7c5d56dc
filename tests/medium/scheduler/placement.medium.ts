import { computeQueue, jobId, type ComputeCommand, type HostFacts } from '@berth/contracts';
import { PlacementStore, ReportStore } from '@berth/db';
import { createLogger } from '@berth/platform';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { PlacementService } from '../../../apps/scheduler/src/placement/placement-service';
import { eventually, TestApi } from '../api-harness';
import { testRedisUrl } from '../settings';

const host = (name: string, ramMb: number): HostFacts => ({
  name,
  address: '192.0.2.1',
  drivers: ['container'],
  vcpus: 8,
  ramMb,
  diskGb: 100,
  agentVersion: 'test',
});

describe('placement on real PostgreSQL', () => {
  let api: TestApi;
  let placement: PlacementService;
  let reports: ReportStore;

  beforeAll(async () => {
    api = await TestApi.start();
    await api.unlimitedQuota();
    placement = new PlacementService(new PlacementStore(api.dataSource, 60), createLogger('test', 'silent'));
    reports = new ReportStore(api.dataSource, { cpu: 4, ram: 1, disk: 1 });
    await api.call('POST', '/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 128, diskGb: 1 });
    await api.call('POST', '/v1/images', { name: 'busybox', kind: 'container', ref: 'busybox' });
    await api.call('POST', '/v1/networks', { name: 'lan', vlan: 100, cidr: '10.7.0.0/16', gateway: '10.7.0.1' });
  });
  afterAll(() => api.stop());

  async function newInstance(name: string) {
    const res = await api.call('POST', '/v1/instances', {
      name,
      kind: 'container',
      flavor: 'm1.tiny',
      image: 'busybox',
      network: 'lan',
    });
    expect(res.status).toBe(202);
    return { instanceId: res.body.instance.id as string, operationId: res.body.operationId as string };
  }

  const usage = async (name: string) =>
    (
      await api.sql<{ used: number; allocated: number }>(
        `SELECT used_ram_mb AS used, (SELECT coalesce(sum(a.ram_mb), 0)::int FROM allocations a WHERE a.host_id = h.id) AS allocated
           FROM hosts h WHERE name = $1`,
        [name],
      )
    )[0];

  it('explains "no valid host" host by host', async () => {
    await reports.heartbeat(host('small', 64));
    const { instanceId, operationId } = await newInstance('nowhere');
    await placement.place({ v: 1, instanceId, operationId });
    const instance = await api.call('GET', `/v1/instances/${instanceId}`);
    expect(instance.body).toMatchObject({
      status: 'ERROR',
      taskState: null,
      fault: { step: 'schedule', message: 'No valid host: small: Capacity: ramMb needs 128, 64 free' },
    });
    expect((await api.call('GET', `/v1/operations/${operationId}`)).body).toMatchObject({
      status: 'failed',
      steps: [expect.objectContaining({ name: 'schedule', status: 'failed' })],
    });
  });

  it('claims on the roomiest host and sends that host the full spec of the instance', async () => {
    await reports.heartbeat(host('roomy', 4096));
    const { instanceId, operationId } = await newInstance('placed');
    await placement.place({ v: 1, instanceId, operationId });
    const instance = (await api.call('GET', `/v1/instances/${instanceId}`)).body;
    expect(instance).toMatchObject({ status: 'BUILDING', taskState: 'spawning', host: 'roomy' });
    expect(await usage('roomy')).toEqual({ used: 128, allocated: 128 });

    const redis = new IORedis(testRedisUrl(), { maxRetriesPerRequest: null });
    const queue = new Queue(computeQueue('roomy'), { connection: redis, prefix: api.env.BERTH_QUEUE_PREFIX });
    try {
      const job = await eventually(() => queue.getJob(jobId(operationId, 'create')), 'the job in Redis');
      const command = job?.data as ComputeCommand;
      expect(command).toMatchObject({ type: 'instance.create', operationId });
      expect(command.instance).toMatchObject({
        id: instanceId,
        name: 'placed',
        imageRef: 'busybox',
        ramMb: 128,
        pidsLimit: 1024,
        port: { ip: instance.ip, mac: instance.mac, vlan: 100, prefixLength: 16, gateway: '10.7.0.1' },
      });
    } finally {
      await queue.close();
      redis.disconnect();
    }

    // A redelivered placement job finds nothing to do.
    await placement.place({ v: 1, instanceId, operationId });
    expect(await usage('roomy')).toEqual({ used: 128, allocated: 128 });
  });

  it('never overbooks: 12 parallel placements into room for 5', async () => {
    await api.dataSource.query(`UPDATE hosts SET enabled = false`);
    await reports.heartbeat(host('five', 640));
    const jobs = await Promise.all(Array.from({ length: 12 }, (_, i) => newInstance(`race-${i}`)));
    await Promise.all(jobs.map((j) => placement.place({ v: 1, ...j })));
    const states = await api.sql<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM instances WHERE name LIKE 'race-%' GROUP BY status ORDER BY status`,
    );
    expect(states).toEqual([
      { status: 'BUILDING', n: 5 },
      { status: 'ERROR', n: 7 },
    ]);
    expect(await usage('five')).toEqual({ used: 640, allocated: 640 });
    await api.dataSource.query(`UPDATE hosts SET enabled = true`);
  });

  describe('reports from the host', () => {
    async function spawning(name: string) {
      await api.dataSource.query(`UPDATE hosts SET enabled = (name = 'roomy')`);
      const ids = await newInstance(name);
      await placement.place({ v: 1, ...ids });
      return ids;
    }
    const at = () => new Date().toISOString();

    it('a build that succeeded makes the instance ACTIVE, once, however often it is reported', async () => {
      const { instanceId, operationId } = await spawning('built');
      await reports.step({ v: 1, type: 'operation.step', operationId, step: 'create', status: 'started', at: at() });
      const result = {
        v: 1 as const,
        type: 'instance.result' as const,
        operationId,
        instanceId,
        command: 'instance.create' as const,
        powerState: 'RUNNING' as const,
        at: at(),
      };
      await reports.result(result);
      const first = (await api.call('GET', `/v1/instances/${instanceId}`)).body;
      const firstOp = (await api.call('GET', `/v1/operations/${operationId}`)).body;
      await reports.result(result);
      expect((await api.call('GET', `/v1/instances/${instanceId}`)).body).toEqual(first);
      expect((await api.call('GET', `/v1/operations/${operationId}`)).body).toEqual(firstOp);
      expect(first).toMatchObject({
        status: 'ACTIVE',
        taskState: null,
        powerState: 'RUNNING',
        launchedAt: expect.any(String),
      });
      expect(firstOp.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toEqual([
        'schedule:succeeded',
        'create:succeeded',
      ]);
    });

    it('a build that failed is ERROR with the fault, and its claim is released', async () => {
      const before = await usage('roomy');
      const { instanceId, operationId } = await spawning('broken');
      const fault = { step: 'network', message: 'injected', at: at() };
      await reports.result({
        v: 1,
        type: 'instance.result',
        operationId,
        instanceId,
        command: 'instance.create',
        powerState: 'NOSTATE',
        at: at(),
        fault,
      });
      expect((await api.call('GET', `/v1/instances/${instanceId}`)).body).toMatchObject({
        status: 'ERROR',
        host: null,
        fault,
      });
      expect(await usage('roomy')).toEqual(before);
      expect((await api.call('GET', `/v1/operations/${operationId}`)).body).toMatchObject({ status: 'failed', fault });
    });

    it('a finished delete frees the address and the claim; a late build report changes nothing', async () => {
      const before = await usage('roomy');
      const { instanceId, operationId } = await spawning('short-lived');
      const del = await api.call('DELETE', `/v1/instances/${instanceId}`);
      const deleted = {
        v: 1 as const,
        type: 'instance.result' as const,
        operationId: del.body.operationId as string,
        instanceId,
        command: 'instance.delete' as const,
        powerState: 'NOSTATE' as const,
        at: at(),
      };
      await reports.result(deleted);
      await reports.result({ ...deleted, operationId, command: 'instance.create', powerState: 'RUNNING' });
      expect((await api.call('GET', `/v1/instances/${instanceId}`)).status).toBe(404);
      const [row] = await api.sql<{ status: string; ports: number }>(
        `SELECT status, (SELECT count(*)::int FROM ports WHERE instance_id = $1) AS ports FROM instances WHERE id = $1`,
        [instanceId],
      );
      expect(row).toEqual({ status: 'DELETED', ports: 0 });
      expect(await usage('roomy')).toEqual(before);
      expect((await api.call('GET', `/v1/operations/${del.body.operationId}`)).body.status).toBe('succeeded');
    });
  });
});
