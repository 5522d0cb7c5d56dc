import { hostNet, portRateLeftovers } from '@berth/network';
import { runCommand } from '@berth/platform';
import { randomUUID } from 'node:crypto';
import { insideView, ovsInterfaces } from '../system/support/probes';
import { TestStack } from '../system/support/stack';
import { Bystander } from '../system/support/bystander';
import { faultCatalog } from './catalog';
import { testEnv } from '../system/support/test-env';

/**
 * Strays: a container with Berth's marks that no record owns, and an OVS port (with its veth) left
 * tagged with the host's name, are reported at the next power sync and removed after the grace
 * period. A veth pair a plug left half made, and QoS rows no port uses, are removed by the host
 * itself. An instance Berth owns is never touched.
 */
const env = testEnv();
const DOCKER = '/usr/bin/docker';

describe('strays on a host', () => {
  let stack: TestStack;
  const strayContainer = randomUUID();
  const strayPortOwner = randomUUID();
  const strayPort = randomUUID();
  const veth = `bvh${strayPort.replace(/-/g, '').slice(0, 12)}`;
  const peer = `bvp${strayPort.replace(/-/g, '').slice(0, 12)}`;
  const netns = `berth-stray-${strayPort.slice(0, 8)}`;

  let bystander: Bystander;

  beforeAll(async () => {
    // Another stack's instance on this machine: not this host's stray, so it must survive the sweep.
    bystander = await Bystander.start(env.image);
    stack = await TestStack.start({ env: { BERTH_POWER_SYNC_SEC: '1', BERTH_STRAY_GRACE_SEC: '3' } });
    await faultCatalog(stack, env.image, '10.93.0');
  });
  afterAll(async () => {
    await runCommand([DOCKER, 'rm', '-f', `berth-${strayContainer}`]).catch(() => undefined);
    await runCommand(['ovs-vsctl', '--if-exists', 'del-port', env.bridge, veth]).catch(() => undefined);
    await runCommand(['ip', 'link', 'del', veth]).catch(() => undefined);
    await runCommand(['ip', 'netns', 'del', netns]).catch(() => undefined);
    await stack?.stop();
    await bystander?.remove();
  });

  const containerExists = async (id: string) =>
    (await runCommand([DOCKER, 'ps', '-aq', '--filter', `name=^berth-${id}$`])).trim() !== '';
  const linkExists = async (name: string) =>
    runCommand(['ip', 'link', 'show', name]).then(
      () => true,
      () => false,
    );

  it('reports them, removes them after the grace period, and leaves the instances it owns alone', async () => {
    const keeper = await stack.createInstance({ name: 'keeper', network: 'vlan100' });
    expect(keeper.status).toBe('ACTIVE');

    await runCommand([
      DOCKER,
      'run',
      '-d',
      '--name',
      `berth-${strayContainer}`,
      '--label',
      `berth.instance=${strayContainer}`,
      '--label',
      `berth.host=${stack.hostName}`,
      '--network',
      'none',
      env.image,
      'sleep',
      '600',
    ]);
    // Its instance end lives in a namespace of its own, as a container's would: a plugged port, not a half-made one.
    await runCommand(['ip', 'netns', 'add', netns]);
    await runCommand(['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', peer, 'netns', netns]);
    await runCommand([
      'ovs-vsctl',
      'add-port',
      env.bridge,
      veth,
      '--',
      'set',
      'Interface',
      veth,
      `external_ids:berth-host=${stack.hostName}`,
      `external_ids:berth-instance=${strayPortOwner}`,
      `external_ids:berth-port=${strayPort}`,
    ]);

    // Reported at the next sync, and still there then: the grace period has not passed.
    await stack.until('the strays to be reported', async () => {
      const log = await stack.schedulerLog();
      return log.includes(strayContainer) && log.includes(strayPortOwner) && log.includes('strays on a host');
    });
    expect(await containerExists(strayContainer)).toBe(true);

    await stack.until('the stray container to be removed', async () => !(await containerExists(strayContainer)));
    // The host deletes the OVS port, then the veth: wait for the last of them.
    await stack.until(
      'the stray port and its veth to be removed',
      async () => (await ovsInterfaces(strayPortOwner)).length === 0 && !(await linkExists(veth)),
    );
    expect(await linkExists(peer)).toBe(false);
    expect(await stack.schedulerLog()).toContain('strays sent for removal');

    // The instance Berth owns runs on, plugged, untouched.
    const after = (await stack.call('GET', `/v1/instances/${keeper.id}`)).body;
    expect(after).toMatchObject({ status: 'ACTIVE', powerState: 'RUNNING', taskState: null });
    expect(await containerExists(keeper.id)).toBe(true);
    expect(await ovsInterfaces(keeper.id)).toHaveLength(1);
    expect((await insideView(keeper.id)).addresses).toEqual([`${keeper.ip}/24`]);
    // Another host's container with Berth's marks is not this host's stray.
    expect(await bystander.running()).toBe(true);
    expect(await stack.schedulerLog()).not.toContain(bystander.instanceId);
  });

  it('removes a veth pair a plug left half made (on no bridge port), and only that', async () => {
    const keeper = (await stack.call('GET', '/v1/instances')).body.items[0];
    const half = randomUUID().replace(/-/g, '').slice(0, 12);
    await runCommand(['ip', 'link', 'add', `bvh${half}`, 'type', 'veth', 'peer', 'name', `bvp${half}`]);
    await stack.until('the half-made veth to be removed', async () => !(await linkExists(`bvh${half}`)));
    expect(await linkExists(`bvp${half}`)).toBe(false);
    await stack.until('the agent to log it', async () =>
      (await stack.logOf(stack.hostName)).includes(`"veth":"${half}","msg":"stray veth removed`),
    );
    // The instance's own veth, plugged into OVS, stays.
    expect(await ovsInterfaces(keeper.id)).toHaveLength(1);
    expect((await insideView(keeper.id)).addresses).toEqual([`${keeper.ip}/24`]);
  });

  it("removes QoS and Queue rows of Berth's that no port uses (their port deleted without clearing them)", async () => {
    const port = randomUUID();
    const tag = `external_ids:berth-port=${JSON.stringify(port)}`;
    // One uuid per create: the Queue's, then the QoS row's.
    const [, qos] = (
      await runCommand([
        'ovs-vsctl',
        '--',
        '--id=@q0',
        'create',
        'Queue',
        tag,
        '--',
        'create',
        'QoS',
        'type=linux-htb',
        tag,
        'queues:0=@q0',
      ])
    )
      .trim()
      .split('\n');
    const rows = async () =>
      (await portRateLeftovers(hostNet({ bridge: env.bridge }), port)).filter((r) => /^(QoS|Queue) /.test(r));
    expect(await rows()).toHaveLength(2);
    await stack.until('the stray QoS rows to be removed', async () => (await rows()).length === 0);
    await stack.until('the agent to log it', async () => {
      const log = await stack.logOf(stack.hostName);
      return log.includes(`QoS ${qos}`) && log.includes('stray QoS rows removed: no port uses them');
    });
  });
});
