import { faultRepeat } from './repeat';
import { runCommand } from '@berth/platform';
import { Client } from 'pg';
import { hostObjects, TestStack } from '../system/support/stack';
import { faultCatalog } from './catalog';
import { testEnv } from '../system/support/test-env';

/**
 * Kill -9 of the scheduler mid-placement and of the API between its commit and the enqueue of what
 * it committed. A failpoint armed to hang holds the process at the exact point; the test kills it
 * there and starts it again unarmed. Every create then ends ACTIVE exactly once: one container, one
 * allocation, one address, one operation, and the host's counters agree with its allocations.
 */
const REPEAT = faultRepeat();

interface Scenario {
  what: string;
  process: 'api' | 'scheduler-0';
  failpoint: string;
  /** Whether the scheduler is down while the API hangs, so that only the API's relay holds the row. */
  schedulerDown: boolean;
}

const SCENARIOS: Scenario[] = [
  {
    what: 'the API between commit and enqueue',
    process: 'api',
    failpoint: 'outbox.send',
    schedulerDown: true,
  },
  {
    what: 'the API after enqueue, before its outbox rows are gone (the job is sent twice)',
    process: 'api',
    failpoint: 'outbox.sent',
    schedulerDown: true,
  },
  {
    what: 'the scheduler mid-placement, hosts chosen and nothing claimed',
    process: 'scheduler-0',
    failpoint: 'placement.claim',
    schedulerDown: false,
  },
  {
    what: 'the scheduler after its claim committed, the placement job not yet done (it runs again)',
    process: 'scheduler-0',
    failpoint: 'placement.claimed',
    schedulerDown: false,
  },
];

describe.each(SCENARIOS)('kill -9 of $what', (scenario) => {
  let stack: TestStack;
  let db: Client;

  beforeAll(async () => {
    // A short job lock, so that the restarted scheduler takes the killed one's placement job soon.
    stack = await TestStack.start({ schedulerEnv: { BERTH_JOB_LOCK_SEC: '3' } });
    db = new Client({ connectionString: stack.db.url });
    await db.connect();
    await faultCatalog(stack, testEnv().image, '10.95.0');
  });
  afterAll(async () => {
    await db?.end();
    await stack?.stop();
  });

  const apiUp = () =>
    stack.until('the API', async () => (await stack.call('GET', '/healthz').catch(() => null))?.status === 200);

  /** The instance's containers on the host, by Berth's label. */
  const containers = async (instanceId: string) =>
    (await runCommand(['/usr/bin/docker', 'ps', '-aq', '--filter', `label=berth.instance=${instanceId}`]))
      .split('\n')
      .filter(Boolean);

  it(`loses nothing and duplicates nothing (${REPEAT} runs)`, async () => {
    for (let run = 0; run < REPEAT; run += 1) {
      const hung = await stack.hungAt(scenario.process, scenario.failpoint);
      await stack.kill(scenario.process);
      if (scenario.schedulerDown) await stack.kill('scheduler-0');
      stack.restart(scenario.process, { BERTH_FAILPOINTS: `${scenario.failpoint}=hang` });
      await apiUp();

      const res = await stack.call('POST', '/v1/instances', {
        name: `victim-${run}`,
        kind: 'container',
        flavor: 'm1.tiny',
        image: 'busybox',
        network: 'vlan100',
      });
      expect(res.status).toBe(202);
      const instanceId: string = res.body.instance.id;
      await stack.untilHung(scenario.process, scenario.failpoint, hung);

      await stack.kill(scenario.process);
      stack.restart(scenario.process, { BERTH_FAILPOINTS: '' });
      if (scenario.schedulerDown) stack.restart('scheduler-0');
      await apiUp();

      const op = await stack.operation(res.body.operationId, 90_000);
      expect(op).toMatchObject({ status: 'succeeded' });
      const instance = (await stack.call('GET', `/v1/instances/${instanceId}`)).body;
      expect(instance).toMatchObject({ status: 'ACTIVE', powerState: 'RUNNING', host: stack.hostName });
      expect(await containers(instanceId)).toHaveLength(1);
      const [row] = (
        await db.query(
          `SELECT (SELECT count(*) FROM allocations WHERE instance_id = $1)::int AS allocations,
                  (SELECT count(*) FROM ports WHERE instance_id = $1)::int AS ports,
                  (SELECT count(*) FROM operations WHERE target_id = $1)::int AS operations`,
          [instanceId],
        )
      ).rows;
      expect(row).toEqual({ allocations: 1, ports: 1, operations: 1 });
    }
    // The host's counters are the sum of its allocations, and no create ran twice.
    const [counts] = (
      await db.query(
        `SELECT h.used_instances AS "usedInstances", h.used_vcpus AS "usedVcpus",
                (SELECT count(*) FROM allocations a WHERE a.host_id = h.id)::int AS allocations,
                (SELECT count(*) FROM instances i WHERE i.deleted_at IS NULL)::int AS instances
           FROM hosts h WHERE h.name = $1`,
        [stack.hostName],
      )
    ).rows;
    expect(counts).toEqual({ usedInstances: REPEAT, usedVcpus: REPEAT, allocations: REPEAT, instances: REPEAT });
  }, 600_000);

  it('deletes them all and leaves nothing behind', async () => {
    const list = (await stack.call('GET', '/v1/instances?limit=100')).body.items as Array<{
      id: string;
      portId: string;
    }>;
    expect(list).toHaveLength(REPEAT);
    for (const i of list) expect((await stack.remove(i.id)).status).toBe('succeeded');
    for (const i of list) expect(await hostObjects(i.id, i.portId)).toEqual([]);
    const [left] = (
      await db.query(`
        SELECT (SELECT count(*) FROM instances WHERE deleted_at IS NULL)::int AS instances,
               (SELECT count(*) FROM allocations)::int AS allocations,
               (SELECT count(*) FROM ports)::int AS ips,
               (SELECT count(*) FROM operations WHERE status = 'running')::int AS running,
               (SELECT sum(used_vcpus + used_ram_mb + used_disk_gb + used_instances) FROM hosts)::int AS used`)
    ).rows;
    expect(left).toEqual({ instances: 0, allocations: 0, ips: 0, running: 0, used: 0 });
  });
});
