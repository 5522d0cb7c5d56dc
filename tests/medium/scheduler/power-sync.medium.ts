import type { AgentReport, PowerState } from '@berth/contracts';
import type { ReportWorkflow } from '@berth/control';
import { hostFacts } from '../host-facts';
import { PlacementHarness } from './placement-harness';

type Sync = Extract<AgentReport, { type: 'host.power-states' }>;

describe('power-state sync on real PostgreSQL', () => {
  let h: PlacementHarness;
  let reports: ReportWorkflow;

  beforeAll(async () => {
    h = await PlacementHarness.start();
    ({ reports } = h);
    await reports.heartbeat(hostFacts('sync1', { vcpus: 64, cpuSharedSet: '0-63', ramMb: 8192, diskGb: 1000 }));
    await h.onlyHosts('sync1');
  });
  afterAll(() => h.stop());

  /** An ACTIVE instance on sync1, built as the host would report it. */
  async function active(name: string): Promise<string> {
    const id = await h.activeInstance(name);
    expect(await h.instance(id)).toMatchObject({ status: 'ACTIVE', powerState: 'RUNNING', host: 'sync1' });
    return id;
  }

  const sync = (over: Partial<Sync> & { instances: Sync['instances'] }) =>
    reports.powerStates({
      v: 1,
      type: 'host.power-states',
      host: 'sync1',
      kinds: ['container'],
      busy: [],
      traces: [],
      at: new Date().toISOString(),
      ...over,
    });
  const state = (instanceId: string, powerState: PowerState) => ({ instanceId, powerState });

  it('moves an instance that stopped outside Berth to SHUTOFF, once, and a repeat changes nothing', async () => {
    const id = await active('stopped-behind');
    const changes = await sync({ instances: [state(id, 'SHUTDOWN')] });
    expect(changes).toEqual([
      {
        instanceId: id,
        from: { status: 'ACTIVE', powerState: 'RUNNING' },
        to: { status: 'SHUTOFF', powerState: 'SHUTDOWN' },
      },
    ]);
    expect(await h.instance(id)).toMatchObject({ status: 'SHUTOFF', powerState: 'SHUTDOWN', taskState: null });
    expect(await sync({ instances: [state(id, 'SHUTDOWN')] })).toEqual([]);
    const start = await h.api.call('POST', `/v1/instances/${id}/actions`, { action: 'start' });
    expect(start.status).toBe(202);
  });

  it('starts an instance found stopped outside Berth again when its restart policy says always', async () => {
    const id = await active('restarts');
    await h.api.sql(`UPDATE instances SET restart_policy = 'always' WHERE id = $1`, [id]);
    const [change] = await sync({ instances: [state(id, 'SHUTDOWN')] });
    expect(change).toMatchObject({ instanceId: id, to: { status: 'SHUTOFF' }, restartOperationId: expect.any(String) });
    expect(await h.instance(id)).toMatchObject({
      status: 'SHUTOFF',
      taskState: 'powering-on',
      restartPolicy: 'always',
    });
    const op = (await h.api.call('GET', `/v1/operations/${change?.restartOperationId}`)).body;
    expect(op).toMatchObject({ action: 'instance.start', status: 'running', steps: [{ name: 'sync' }] });
    // The next sync leaves it to the start in flight, and the host's answer makes it ACTIVE.
    expect(await sync({ instances: [state(id, 'SHUTDOWN')] })).toEqual([]);
    await reports.result({
      v: 1,
      type: 'instance.result',
      operationId: change?.restartOperationId ?? '',
      instanceId: id,
      command: 'instance.start',
      powerState: 'RUNNING',
      at: new Date().toISOString(),
    });
    expect(await h.instance(id)).toMatchObject({ status: 'ACTIVE', powerState: 'RUNNING', taskState: null });
    // Stopped by its owner through Berth, it stays stopped: the policy is for stops Berth did not ask for.
    const stop = await h.api.call('POST', `/v1/instances/${id}/actions`, { action: 'stop' });
    expect(stop.status).toBe(202);
    await reports.result({
      v: 1,
      type: 'instance.result',
      operationId: stop.body.operationId,
      instanceId: id,
      command: 'instance.stop',
      powerState: 'SHUTDOWN',
      at: new Date().toISOString(),
    });
    expect(await sync({ instances: [state(id, 'SHUTDOWN')] })).toEqual([]);
    expect(await h.instance(id)).toMatchObject({ status: 'SHUTOFF', taskState: null });
  });

  it('puts an instance whose workload vanished in ERROR with a fault, keeping its host and claim', async () => {
    const id = await active('removed-behind');
    await sync({ instances: [] });
    const gone = await h.instance(id);
    expect(gone).toMatchObject({ status: 'ERROR', powerState: 'NOSTATE', host: 'sync1' });
    expect(gone.fault).toMatchObject({ step: 'sync', message: expect.stringMatching(/gone from its host/) });
    const [claim] = await h.api.sql<{ n: number }>(
      'SELECT count(*)::int AS n FROM allocations WHERE instance_id = $1',
      [id],
    );
    expect(claim?.n).toBe(1);
    expect((await h.api.call('DELETE', `/v1/instances/${id}`)).status).toBe(202);
  });

  it('judges no instance reported busy, none with a task in flight, and none of a kind not listed', async () => {
    const busy = await active('busy');
    const stopping = await active('stopping');
    const vm = await active('other-kind');
    await h.api.sql(`UPDATE instances SET kind = 'vm' WHERE id = $1`, [vm]);
    expect((await h.api.call('POST', `/v1/instances/${stopping}/actions`, { action: 'stop' })).status).toBe(202);

    expect(await sync({ instances: [], busy: [busy] })).toEqual([]);
    expect(await h.instance(busy)).toMatchObject({ status: 'ACTIVE', powerState: 'RUNNING' });
    expect(await h.instance(stopping)).toMatchObject({ status: 'ACTIVE', taskState: 'powering-off' });
    expect(await h.instance(vm)).toMatchObject({ status: 'ACTIVE', powerState: 'RUNNING' });
  });

  it('never touches instances of another host', async () => {
    const id = await active('elsewhere');
    expect(await sync({ host: 'sync2', instances: [] })).toEqual([]);
    expect(await h.instance(id)).toMatchObject({ status: 'ACTIVE' });
  });
});
