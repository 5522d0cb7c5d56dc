import { runCommand } from '@berth/platform';
import { randomInt } from 'node:crypto';
import { createOn, migrate, startStack } from './support/migration';
import { serveTcp, tcpFrom } from './support/probes';
import { TestStack } from './support/stack';
import { testEnv } from './support/test-env';
import { dockerSocketOf, onlyTestbedHosts, testbedLeftovers } from './support/testbed';

/**
 * Security groups on the real OVS, with conntrack: two projects' containers on one shared VLAN, real TCP.
 * Project A's default group lets its members in and B's instances not; a rule opens one port to one
 * address; removing it refuses new connections and leaves an established one running, or cuts it when
 * asked; a remote-group rule follows membership; after the agent is killed (-9) the rules hold and a change
 * made while it was down lands when it returns.
 */
const env = testEnv();
const DOCKER = '/usr/bin/docker';
const net = `10.${randomInt(100, 200)}.${randomInt(0, 255)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Instance {
  id: string;
  ip: string;
}

/** Lines a streaming connection from `instance` has received so far (streamFrom). */
async function received(instance: Instance, file: string): Promise<number> {
  const out = await runCommand([DOCKER, 'exec', `berth-${instance.id}`, 'sh', '-c', `wc -l < ${file}`]);
  return Number(out.trim());
}

describe('security groups: stateful allow lists on every port (OVS conntrack)', () => {
  let stack: TestStack;
  let a1: Instance;
  let a2: Instance;
  let b1: Instance;
  let b2: Instance;
  let web: any;

  const act = async (instance: Instance, groups: string[]) => {
    const res = await stack.call('POST', `/v1/instances/${instance.id}/actions`, {
      action: 'set-security-groups',
      securityGroups: groups,
    });
    expect(res.status).toBe(202);
  };
  const addRule = async (group: any, rule: Record<string, unknown>) => {
    const res = await stack.call('POST', `/v1/security-groups/${group.id}/rules`, rule);
    expect(res.status).toBe(201);
    return res.body;
  };
  /**
   * Opens a2:9000-9001 to b1 by a rule of its own, and a stream from a2:9000 to b1 whose lines land in `file`
   * (received() counts them); returns the rule.
   */
  const openStream = async (file: string) => {
    const rule = await addRule(web, {
      direction: 'ingress',
      protocol: 'tcp',
      portMin: 9000,
      portMax: 9001,
      remoteCidr: `${b1.ip}/32`,
    });
    await eventually('b1 to reach a2:9001', () => tcpFrom(b1.id, a2.ip, 9001), 'hello-9001');
    await runCommand([DOCKER, 'exec', '-d', `berth-${b1.id}`, 'sh', '-c', `nc ${a2.ip} 9000 > ${file}`]);
    await stack.until('the stream to flow', async () => (await received(b1, file)) > 3);
    return rule;
  };
  /** Polls a TCP probe until it gives the expected answer (the change has reached the host). */
  const eventually = (what: string, probe: () => Promise<string | null>, expected: string | null) =>
    stack.until(what, async () => ((await probe()) === expected ? true : null), 30_000);

  beforeAll(async () => {
    stack = await TestStack.start();
    await stack.call('POST', '/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 128, diskGb: 1 });
    await stack.call('POST', '/v1/images', { name: 'busybox', kind: 'container', ref: env.image });
    const network = { name: 'shared', vlan: 100, cidr: `${net}.0/24`, gateway: `${net}.1` };
    expect((await stack.call('POST', '/v1/networks', network)).status).toBe(201);
    expect((await stack.call('POST', '/v1/projects', { name: 'tenant-b' })).status).toBe(201);
    const make = async (name: string, project?: string): Promise<Instance> => {
      const i = await stack.createInstance({ name, network: 'shared', ...(project ? { project } : {}) });
      expect(i.status).toBe('ACTIVE');
      return { id: i.id, ip: i.ip };
    };
    a1 = await make('a1');
    a2 = await make('a2');
    b1 = await make('b1', 'tenant-b');
    b2 = await make('b2', 'tenant-b');
    for (const [i, port] of [
      [a2, 8080],
      [a2, 8081],
      [a2, 9001],
      [a2, 9100],
      [b1, 8080],
    ] as const) {
      await serveTcp(i.id, port, `hello-${port}`);
    }
    // A stream that outlives rule changes: a line every 200 ms to whoever connects to a2:9000.
    await runCommand([
      DOCKER,
      'exec',
      '-d',
      `berth-${a2.id}`,
      'nc',
      '-ll',
      '-p',
      '9000',
      '-e',
      '/bin/sh',
      '-c',
      'while :; do echo tick; sleep 0.2; done',
    ]);
    const made = await stack.call('POST', '/v1/security-groups', { name: 'web', description: 'what a2 serves' });
    expect(made.status).toBe(201);
    web = made.body;
  });
  afterAll(() => stack?.stop());

  it('puts every instance in its project’s default group, which its members reach and other projects do not', async () => {
    const a = (await stack.call('GET', `/v1/instances/${a2.id}`)).body;
    expect(a.securityGroups.map((g: any) => g.name)).toEqual(['default']);
    // Same group: in, and the reply back out.
    expect(await tcpFrom(a1.id, a2.ip, 8080)).toBe('hello-8080');
    // Project B's instance reaches neither way: A's default group admits only its own members, and B's its own.
    expect(await tcpFrom(b1.id, a2.ip, 8080)).toBeNull();
    expect(await tcpFrom(a1.id, b1.ip, 8080)).toBeNull();
    // The flows that did it are on the bridge, in the port's zone (its VLAN).
    const flows = await runCommand(['ovs-ofctl', '-O', 'OpenFlow14', 'dump-flows', env.bridge, 'table=31']);
    expect(flows).toMatch(new RegExp(`nw_src=${a1.ip.replace(/\./g, '\\.')}.*actions=ct\\(commit,zone=100`));
  });

  it('opens one port to one address with a rule, and nothing else', async () => {
    await act(a2, ['default', 'web']);
    await addRule(web, { direction: 'ingress', protocol: 'tcp', portMin: 8080, remoteCidr: `${b1.ip}/32` });
    await eventually('b1 to reach a2:8080', () => tcpFrom(b1.id, a2.ip, 8080), 'hello-8080');
    expect(await tcpFrom(b2.id, a2.ip, 8080)).toBeNull();
    expect(await tcpFrom(b1.id, a2.ip, 8081)).toBeNull();
    const group = (await stack.call('GET', `/v1/security-groups/${web.id}`)).body;
    expect(group.members.map((m: any) => m.id)).toEqual([a2.id]);
  });

  it('refuses new connections once a rule is removed, and lets an established one run on', async () => {
    const rule = await openStream('/tmp/stream-1');

    expect((await stack.call('DELETE', `/v1/security-group-rules/${rule.id}`)).status).toBe(204);
    await eventually('a new connection to a2:9001 to be refused', () => tcpFrom(b1.id, a2.ip, 9001), null);
    const before = await received(b1, '/tmp/stream-1');
    await sleep(1500);
    expect(await received(b1, '/tmp/stream-1')).toBeGreaterThan(before);
  });

  it('cuts the connections a rule admitted when its removal says so', async () => {
    const rule = await openStream('/tmp/stream-2');

    expect((await stack.call('DELETE', `/v1/security-group-rules/${rule.id}?cut=true`)).status).toBe(204);
    await stack.until('the stream to stop', async () => {
      const now = await received(b1, '/tmp/stream-2');
      await sleep(1000);
      return (await received(b1, '/tmp/stream-2')) === now;
    });
    const stopped = await received(b1, '/tmp/stream-2');
    await sleep(1500);
    expect(await received(b1, '/tmp/stream-2')).toBe(stopped);
  });

  it('follows a remote group’s members as they join and leave', async () => {
    const clients = (await stack.call('POST', '/v1/security-groups', { name: 'clients' })).body;
    await addRule(web, { direction: 'ingress', protocol: 'tcp', portMin: 9100, remoteGroup: 'clients' });
    // a1 is in A's default group, which a2 admits anyway: take it out to see the remote-group rule alone.
    await act(a1, ['clients']);
    // a1 reached 9100 before as a member of default: wait for the change to land (8081 refused), then 9100 is the
    // remote-group rule's doing. One refresh carries both: a2's firewall is read whole.
    await eventually('a1 (out of default) to be refused a2:8081', () => tcpFrom(a1.id, a2.ip, 8081), null);
    expect(await tcpFrom(a1.id, a2.ip, 9100)).toBe('hello-9100');
    await act(a1, []);
    await eventually('a1 (no longer a client) to be refused', () => tcpFrom(a1.id, a2.ip, 9100), null);
    // No group at all: nothing in or out, even to its old group's members.
    expect(await tcpFrom(a1.id, a2.ip, 8081)).toBeNull();
    await act(a1, ['default']);
    await eventually('a1 (back in default) to reach a2', () => tcpFrom(a1.id, a2.ip, 8081), 'hello-8081');
    expect((await stack.call('GET', `/v1/security-groups/${clients.id}`)).body.members).toEqual([]);
  });

  it('keeps its rules through an agent killed with -9, and applies a change made meanwhile when it returns', async () => {
    await stack.killAgent(stack.hostName);
    expect(await tcpFrom(b1.id, a2.ip, 8081)).toBeNull();
    expect(await tcpFrom(a1.id, a2.ip, 8081)).toBe('hello-8081');
    await addRule(web, {
      direction: 'ingress',
      protocol: 'tcp',
      portMin: 8081,
      portMax: 8081,
      remoteCidr: `${b2.ip}/32`,
    });
    stack.restartAgent(stack.hostName);
    await eventually('b2 to reach a2:8081', () => tcpFrom(b2.id, a2.ip, 8081), 'hello-8081');
    expect(await tcpFrom(b1.id, a2.ip, 8081)).toBeNull();
  });

  it('refuses to delete a group in use, or the default group', async () => {
    const inUse = await stack.call('DELETE', `/v1/security-groups/${web.id}`);
    expect(inUse.status).toBe(409);
    expect(inUse.body.error.message).toContain('in use by 1 instance');
    const groups = (await stack.call('GET', '/v1/security-groups')).body.items;
    const fallback = groups.find((g: any) => g.name === 'default');
    expect((await stack.call('DELETE', `/v1/security-groups/${fallback.id}`)).status).toBe(409);
  });
});

describe('security groups across testbed hosts (own OVS each) and after a cold migration', () => {
  let stack: TestStack;
  let server: any;
  let client: any;
  let intruder: any;
  const on = (host: number) => dockerSocketOf(host);
  const eventually = (what: string, probe: () => Promise<string | null>, expected: string | null) =>
    stack.until(what, async () => ((await probe()) === expected ? true : null), 30_000);

  beforeAll(async () => {
    stack = await startStack({}, {}, [1, 2]);
    expect((await stack.call('POST', '/v1/projects', { name: 'tenant-b' })).status).toBe(201);
    server = await createOn(stack, 1, 'server', [1, 2]);
    client = await createOn(stack, 2, 'client', [1, 2]);
    await onlyTestbedHosts(stack, 2);
    intruder = await stack.createInstance({
      name: 'intruder',
      flavor: 'm1.qos',
      network: 'vlan100',
      project: 'tenant-b',
    });
    await onlyTestbedHosts(stack, 1, 2);
    expect(intruder).toMatchObject({ status: 'ACTIVE', host: stack.testbedHostNames[1] });
    for (const port of [8080, 8081]) await serveTcp(server.id, port, `hello-${port}`, on(1));
  });
  afterAll(() => stack?.stop());

  it('admits a member of the group from another host, and refuses another project’s instance', async () => {
    expect(await tcpFrom(client.id, server.ip, 8080, on(2))).toBe('hello-8080');
    expect(await tcpFrom(intruder.id, server.ip, 8080, on(2))).toBeNull();
  });

  it('opens a port to the other project’s instance live, on the server’s host', async () => {
    const web = (await stack.call('POST', '/v1/security-groups', { name: 'web' })).body;
    const rule = { direction: 'ingress', protocol: 'tcp', portMin: 8080, remoteCidr: `${intruder.ip}/32` };
    expect((await stack.call('POST', `/v1/security-groups/${web.id}/rules`, rule)).status).toBe(201);
    const act = { action: 'set-security-groups', securityGroups: ['default', 'web'] };
    expect((await stack.call('POST', `/v1/instances/${server.id}/actions`, act)).status).toBe(202);
    await eventually('the intruder to reach 8080', () => tcpFrom(intruder.id, server.ip, 8080, on(2)), 'hello-8080');
    expect(await tcpFrom(intruder.id, server.ip, 8081, on(2))).toBeNull();
  });

  it('keeps the same rules on the host it moves to, and leaves nothing of them behind', async () => {
    expect(await migrate(stack, server.id, 2)).toMatchObject({ status: 'succeeded' });
    for (const port of [8080, 8081]) await serveTcp(server.id, port, `hello-${port}`, on(2));
    // The client knew the server's MAC behind the uplink: the plug's announcement tells its host's bridge that it
    // is local now (within seconds, not an ARP cache's half minute).
    await stack.until('the client to reach 8081 there', async () => tcpFrom(client.id, server.ip, 8081, on(2)), 10_000);
    expect(await tcpFrom(client.id, server.ip, 8081, on(2))).toBe('hello-8081');
    expect(await tcpFrom(intruder.id, server.ip, 8080, on(2))).toBe('hello-8080');
    expect(await tcpFrom(intruder.id, server.ip, 8081, on(2))).toBeNull();
    const confirm = await stack.call('POST', `/v1/instances/${server.id}/actions`, { action: 'confirm' });
    expect(await stack.operation(confirm.body.operationId)).toMatchObject({ status: 'succeeded' });
    expect(await testbedLeftovers(stack, 1)).toEqual([]);
  });
});
