import { Client } from 'pg';
import { hostObjects, TestStack } from '../system/support/stack';
import { faultCatalog } from './catalog';
import { testEnv } from '../system/support/test-env';

/**
 * The stuck-task watchdog on the real stack: an agent that hangs (a failpoint armed to hang) never
 * reports, and after BERTH_TASK_TIMEOUT_SEC without progress the task is given up and rolled back.
 */
describe('the stuck-task watchdog', () => {
  let stack: TestStack;
  let db: Client;

  beforeAll(async () => {
    stack = await TestStack.start({
      failpoints: ['docker.create=hang'],
      env: { BERTH_TASK_TIMEOUT_SEC: '3', BERTH_WATCHDOG_SEC: '1', BERTH_POWER_SYNC_SEC: '2' },
    });
    db = new Client({ connectionString: stack.db.url });
    await db.connect();
    await faultCatalog(stack, testEnv().image, '10.92.0');
  });
  afterAll(async () => {
    await db?.end();
    await stack?.stop();
  });

  it('fails a build that hangs, naming the step, releases its claim, and a later restart builds nothing', async () => {
    const res = await stack.call('POST', '/v1/instances', {
      name: 'hung',
      kind: 'container',
      flavor: 'm1.tiny',
      image: 'busybox',
      network: 'vlan100',
    });
    expect(res.status).toBe(202);
    const op = await stack.operation(res.body.operationId, 30_000);
    expect(op).toMatchObject({ status: 'failed', fault: { step: 'watchdog' } });
    expect(op.fault.message).toMatch(/^no progress for \d+ s in step create: the task was given up and rolled back$/);
    const instance = (await stack.call('GET', `/v1/instances/${res.body.instance.id}`)).body;
    expect(instance).toMatchObject({ status: 'ERROR', taskState: null, host: null, fault: { step: 'watchdog' } });
    const [host] = (await stack.call('GET', '/v1/hosts')).body.items;
    expect(host.usage).toMatchObject({ vcpus: 0, ramMb: 0, instances: 0 });

    // The agent that hung dies; its successor finds the build given up and does not build it.
    await stack.killAgent(stack.hostName);
    stack.restartAgent(stack.hostName, { BERTH_FAILPOINTS: '' });
    await stack.until('the agent to be up again', async () => {
      const hosts = (await stack.call('GET', '/v1/hosts')).body.items;
      return hosts[0]?.state === 'up';
    });
    const later = await stack.createInstance({ name: 'after', network: 'vlan100' });
    expect(later.status).toBe('ACTIVE');
    expect(await hostObjects(instance.id, instance.portId)).toEqual([]);
    expect((await stack.remove(instance.id)).status).toBe('succeeded');
    expect((await stack.remove(later.id)).status).toBe('succeeded');
  });

  it('gives up a stop that hangs; after a restart the record follows the host at the next power sync', async () => {
    const made = await stack.createInstance({ name: 'stopper', network: 'vlan100' });
    expect(made.status).toBe('ACTIVE');
    await stack.killAgent(stack.hostName);
    stack.restartAgent(stack.hostName, { BERTH_FAILPOINTS: 'docker.unplug=hang' });
    const res = await stack.call('POST', `/v1/instances/${made.id}/actions`, { action: 'stop' });
    expect(res.status).toBe(202);
    const op = await stack.operation(res.body.operationId, 30_000);
    expect(op).toMatchObject({ status: 'failed', fault: { step: 'watchdog' } });
    expect(op.fault.message).toContain('in step unplug');
    const given = (await stack.call('GET', `/v1/instances/${made.id}`)).body;
    expect(given.taskState).toBeNull();

    // The container was stopped before the hang. While the hung agent lives it reports the instance busy;
    // its successor does not run the given-up stop again, and its power sync brings the record to SHUTOFF.
    await stack.killAgent(stack.hostName);
    stack.restartAgent(stack.hostName, { BERTH_FAILPOINTS: '' });
    const synced = await stack.until('the power sync', async () => {
      const i = (await stack.call('GET', `/v1/instances/${made.id}`)).body;
      return i.status === 'SHUTOFF' ? i : null;
    });
    expect(synced).toMatchObject({ status: 'SHUTOFF', powerState: 'SHUTDOWN', taskState: null });
    expect((await stack.operation(res.body.operationId)).status).toBe('failed');
    expect((await stack.remove(made.id)).status).toBe('succeeded');
    expect(await hostObjects(made.id, made.portId)).toEqual([]);
    const left = await db.query(
      `SELECT (SELECT count(*) FROM allocations)::int AS allocations, (SELECT count(*) FROM ports)::int AS ips,
              (SELECT count(*) FROM operations WHERE status = 'running')::int AS running`,
    );
    expect(left.rows[0]).toEqual({ allocations: 0, ips: 0, running: 0 });
  });
});
