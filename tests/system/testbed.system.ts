import { randomInt } from 'node:crypto';
import { serveTcp, tcpFrom } from './support/probes';
import { TestStack } from './support/stack';
import { testEnv } from './support/test-env';
import { testbedLeftovers } from './support/testbed';

// Three compute hosts of deploy/testbed.sh, each a namespace with its own dockerd and OVS, joined by
// an underlay whose trunk carries the VLANs: one VLAN spans the hosts, and another stays apart.

const env = testEnv();
const tb = env.testbed;
const net = `10.${randomInt(100, 200)}.${randomInt(0, 255)}`;
const HOSTS = [1, 2, 3];

describe('the testbed: three hosts, one VLAN across them (real dockerd and OVS per host)', () => {
  let stack: TestStack;
  const hostOf = (name: string) => HOSTS[stack.testbedHostNames.indexOf(name)] ?? 0;
  const socketOf = (instance: { host: string }) => `${tb.runDir(hostOf(instance.host))}/docker.sock`;

  beforeAll(async () => {
    stack = await TestStack.start({ agent: false, testbedHosts: HOSTS });
    for (const [path, body] of [
      ['/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 128, diskGb: 1 }],
      ['/v1/images', { name: 'busybox', kind: 'container', ref: tb.image }],
      ['/v1/networks', { name: 'vlan100', vlan: 100, cidr: `${net}.0/24`, gateway: `${net}.1` }],
      ['/v1/networks', { name: 'vlan200', vlan: 200, cidr: `${net}.0/24`, gateway: `${net}.1` }],
      ['/v1/server-groups', { name: 'spread', policy: 'anti-affinity' }],
    ] as const) {
      expect((await stack.call('POST', path, body)).status).toBe(201);
    }
  });
  afterAll(() => stack?.stop());

  it('registers each host with its management address on the underlay', async () => {
    const hosts = (await stack.call('GET', '/v1/hosts')).body.items as Array<{ name: string; address: string }>;
    expect(hosts.map((h) => [h.name, h.address]).sort()).toEqual(
      stack.testbedHostNames.map((name, i) => [name, tb.address(HOSTS[i] ?? 0)]).sort(),
    );
  });

  it('spreads a VLAN across hosts: TCP between instances on different hosts, none from another VLAN', async () => {
    const made = await stack.call('POST', '/v1/instances', {
      name: 'spread',
      kind: 'container',
      flavor: 'm1.tiny',
      image: 'busybox',
      network: 'vlan100',
      count: 2,
      serverGroup: 'spread',
    });
    expect(made.status).toBe(202);
    const ids = (made.body.instances as Array<{ instance: { id: string }; operationId: string }>).map((b) => {
      return { id: b.instance.id, op: b.operationId };
    });
    for (const { op } of ids) expect(await stack.operation(op)).toMatchObject({ status: 'succeeded' });
    const [a, b] = await Promise.all(ids.map(async ({ id }) => (await stack.call('GET', `/v1/instances/${id}`)).body));
    expect(a.host).not.toBe(b.host);
    // The third host runs the instance on the other VLAN, with an address in the same subnet.
    const used = new Set([a.host, b.host]);
    const third = stack.testbedHostNames.find((n) => !used.has(n));
    for (const name of stack.testbedHostNames) {
      if (name === third) continue;
      const host = (await stack.call('GET', '/v1/hosts')).body.items.find((h: any) => h.name === name);
      expect(
        (await stack.call('PATCH', `/v1/hosts/${host.id}`, { enabled: false, disabledReason: 'test' })).status,
      ).toBe(200);
    }
    const stranger = await stack.createInstance({ name: 'stranger', network: 'vlan200', ip: `${net}.50` });
    expect(stranger.host).toBe(third);

    await serveTcp(a.id, 9000, 'hello-across-hosts', socketOf(a));
    expect(await stack.until('TCP across hosts', () => tcpFrom(b.id, a.ip, 9000, socketOf(b)), 20_000)).toBe(
      'hello-across-hosts',
    );
    expect(await tcpFrom(stranger.id, a.ip, 9000, socketOf(stranger))).toBeNull();

    for (const id of [a.id, b.id, stranger.id]) expect((await stack.remove(id)).status).toBe('succeeded');
    for (const host of HOSTS) expect(await testbedLeftovers(stack, host)).toEqual([]);
  });
});
