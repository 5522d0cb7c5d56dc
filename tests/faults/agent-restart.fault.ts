import { faultRepeat } from './repeat';
import { Client } from 'pg';
import { hostObjects, TestStack } from '../system/support/stack';
import { faultCatalog } from './catalog';
import { testEnv } from '../system/support/test-env';

/**
 * Kill -9 of the compute agent in the middle of each task, then a restart: the scheduler recovers
 * each task from the records (recoverTask) and every instance ends in a correct, stable state,
 * with nothing of the failed or deleted ones left on the host or in the database.
 *
 * A failpoint armed to hang holds the agent at the exact point (BERTH_FAILPOINTS=name=hang); the
 * test waits until the operation shows the step, kills the agent, and starts it again unarmed.
 */
const REPEAT = faultRepeat();

interface Scenario {
  state: string;
  failpoint: string;
  /** The operation step the agent hangs in, and the task state the instance then holds. */
  step: string;
  taskState: string;
  /** What exists before the interrupted action. */
  prepare: 'nothing' | 'active' | 'shutoff';
  /** The interrupted action: a create, or this body on /actions, or a delete. */
  act: 'create' | 'delete' | Record<string, unknown>;
  /** Where the instance ends, and whether the operation succeeds. */
  ends: { status: string; operation: 'succeeded' | 'failed' };
}

const SCENARIOS: Scenario[] = [
  {
    state: 'building, before the container exists',
    failpoint: 'docker.create',
    step: 'create',
    taskState: 'spawning',
    prepare: 'nothing',
    act: 'create',
    ends: { status: 'ERROR', operation: 'failed' },
  },
  {
    state: 'networking (veth made, not yet an OVS port)',
    failpoint: 'network.ovs-port',
    step: 'network',
    taskState: 'spawning',
    prepare: 'nothing',
    act: 'create',
    ends: { status: 'ERROR', operation: 'failed' },
  },
  {
    state: 'building, complete but its limits not yet reported',
    failpoint: 'docker.limits',
    step: 'limits',
    taskState: 'spawning',
    prepare: 'nothing',
    act: 'create',
    ends: { status: 'ACTIVE', operation: 'succeeded' },
  },
  {
    state: 'deleting (container removed, port still plugged)',
    failpoint: 'docker.unplug',
    step: 'delete',
    taskState: 'deleting',
    prepare: 'active',
    act: 'delete',
    ends: { status: 'DELETED', operation: 'succeeded' },
  },
  {
    state: 'powering off (stopped, port still plugged)',
    failpoint: 'docker.unplug',
    step: 'unplug',
    taskState: 'powering-off',
    prepare: 'active',
    act: { action: 'stop' },
    ends: { status: 'SHUTOFF', operation: 'succeeded' },
  },
  {
    state: 'powering on (started, not yet an OVS port)',
    failpoint: 'network.ovs-port',
    step: 'network',
    taskState: 'powering-on',
    prepare: 'shutoff',
    act: { action: 'start' },
    ends: { status: 'ACTIVE', operation: 'succeeded' },
  },
  {
    state: 'resizing (new limits written, not reported)',
    failpoint: 'docker.set-limits',
    step: 'limits',
    taskState: 'resizing',
    prepare: 'active',
    act: { action: 'set-limits', limits: { diskWriteIops: 300 } },
    ends: { status: 'ACTIVE', operation: 'succeeded' },
  },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(SCENARIOS)('kill -9 of the agent while $state', (scenario) => {
  let stack: TestStack;
  let db: Client;
  const instances: Array<{ id: string; portId: string }> = [];

  beforeAll(async () => {
    stack = await TestStack.start({ env: { BERTH_POWER_SYNC_SEC: '3' } });
    db = new Client({ connectionString: stack.db.url });
    await db.connect();
    await faultCatalog(stack, testEnv().image, '10.91.0');
  });
  afterAll(async () => {
    await db?.end();
    await stack?.stop();
  });

  /** Starts the interrupted action; returns its operation id. */
  async function act(instanceId: string | null): Promise<{ instanceId: string; operationId: string }> {
    if (scenario.act === 'create') {
      const res = await stack.call('POST', '/v1/instances', {
        name: 'victim',
        kind: 'container',
        flavor: 'm1.tiny',
        image: 'busybox',
        network: 'vlan100',
      });
      expect(res.status).toBe(202);
      return { instanceId: res.body.instance.id, operationId: res.body.operationId };
    }
    const res =
      scenario.act === 'delete'
        ? await stack.call('DELETE', `/v1/instances/${instanceId}`)
        : await stack.call('POST', `/v1/instances/${instanceId}/actions`, scenario.act);
    expect(res.status).toBe(202);
    return { instanceId: instanceId ?? '', operationId: res.body.operationId };
  }

  it(`ends ${scenario.ends.status} every time (${REPEAT} runs), with the recovery on record`, async () => {
    for (let run = 0; run < REPEAT; run += 1) {
      let prepared: { id: string; portId: string } | null = null;
      if (scenario.prepare !== 'nothing') {
        const created = await stack.createInstance({ name: `victim-${run}`, network: 'vlan100' });
        expect(created.status).toBe('ACTIVE');
        if (scenario.prepare === 'shutoff') expect((await stack.act(created.id, 'stop')).status).toBe('SHUTOFF');
        prepared = { id: created.id, portId: created.portId };
      }
      // The agent, armed to hang at the point, takes the action.
      await stack.killAgent(stack.hostName);
      const hung = await stack.hungAt(stack.hostName, scenario.failpoint);
      stack.restartAgent(stack.hostName, { BERTH_FAILPOINTS: `${scenario.failpoint}=hang` });
      const { instanceId, operationId } = await act(prepared?.id ?? null);
      await stack.untilHung(stack.hostName, scenario.failpoint, hung);
      // The agent reported the step before it reached the point; the scheduler records it.
      await stack.until(`step ${scenario.step} of ${operationId}`, async () => {
        const op = (await stack.call('GET', `/v1/operations/${operationId}`)).body;
        return op.steps?.some((s: any) => s.name === scenario.step && s.status === 'running');
      });
      const held = (await stack.call('GET', `/v1/instances/${instanceId}`)).body;
      expect(held.taskState).toBe(scenario.taskState);

      await stack.killAgent(stack.hostName);
      stack.restartAgent(stack.hostName, { BERTH_FAILPOINTS: '' });

      // One sync period's default (30 s) is the bound for getting back to a stable state.
      const op = await stack.operation(operationId, 30_000);
      expect(op.status).toBe(scenario.ends.operation);
      expect(op.steps.map((s: any) => s.name)).toContain('recover');
      const after = await stack.until(`instance ${instanceId} to settle`, async () => {
        const res = await stack.call('GET', `/v1/instances/${instanceId}`);
        if (res.status === 404) return { status: 'DELETED', taskState: null };
        return res.body.taskState === null ? res.body : null;
      });
      expect(after.status).toBe(scenario.ends.status);
      if (scenario.ends.status === 'ERROR') {
        expect(after.fault).toMatchObject({ step: 'recover' });
        expect(after.host).toBeNull();
      }
      if (scenario.ends.status === 'ACTIVE') expect(after.powerState).toBe('RUNNING');
      if (scenario.ends.status === 'SHUTOFF') expect(after.powerState).toBe('SHUTDOWN');
      if (typeof scenario.act === 'object' && scenario.act['action'] === 'set-limits') {
        // Read back from the kernel by the agent that finished the change.
        expect(after.appliedLimits.diskWriteIops).toBe(300);
      }
      const portId = prepared?.portId ?? after.portId;
      if (scenario.ends.status === 'ERROR' || scenario.ends.status === 'DELETED') {
        expect(await hostObjects(instanceId, portId)).toEqual([]);
      }
      if (scenario.ends.status === 'SHUTOFF') {
        // Stopped means unplugged: only the container itself remains.
        expect((await hostObjects(instanceId, portId)).filter((o) => !o.startsWith('container'))).toEqual([]);
      }
      instances.push({ id: instanceId, portId });
    }
  }, 600_000);

  it('stays in that state through a power sync, and after deleting everything nothing is left', async () => {
    const states = async () =>
      (await db.query(`SELECT id, status, task_state, power_state FROM instances ORDER BY id`)).rows;
    const before = await states();
    await sleep(4_000);
    expect(await states()).toEqual(before);

    for (const i of instances) {
      const res = await stack.call('DELETE', `/v1/instances/${i.id}`);
      if (res.status === 202) expect((await stack.operation(res.body.operationId)).status).toBe('succeeded');
    }
    for (const i of instances) expect(await hostObjects(i.id, i.portId)).toEqual([]);
    const left = await db.query(`
      SELECT (SELECT count(*) FROM instances WHERE deleted_at IS NULL)::int AS instances,
             (SELECT count(*) FROM allocations)::int AS allocations,
             (SELECT count(*) FROM ports)::int AS ips,
             (SELECT count(*) FROM operations WHERE status = 'running')::int AS running,
             (SELECT sum(used_vcpus + used_ram_mb + used_disk_gb + used_instances) FROM hosts)::int AS used`);
    expect(left.rows[0]).toEqual({ instances: 0, allocations: 0, ips: 0, running: 0, used: 0 });
  });
});
