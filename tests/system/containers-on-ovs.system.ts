import { randomInt } from 'node:crypto';
import { insideView, ovsTag, pingFrom, serveTcp, tcpFrom } from './support/probes';
import { hostObjects, TestStack } from './support/stack';
import { testEnv } from './support/test-env';

// Random subnets, so a stack left running by deploy/up.sh on the same VLANs never shares addresses.
const net = `10.${randomInt(100, 200)}.${randomInt(0, 255)}`;
const cidr = `${net}.0/24`;

async function catalog(stack: TestStack): Promise<void> {
  await stack.call('POST', '/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 128, diskGb: 1 });
  await stack.call('POST', '/v1/images', { name: 'busybox', kind: 'container', ref: testEnv().image });
  for (const vlan of [100, 200]) {
    const res = await stack.call('POST', '/v1/networks', { name: `vlan${vlan}`, vlan, cidr, gateway: `${net}.1` });
    expect(res.status).toBe(201);
  }
}

describe('containers through the whole stack, on OVS VLANs (real daemons)', () => {
  let stack: TestStack;
  let a: any;
  let b: any;
  let c: any;

  beforeAll(async () => {
    stack = await TestStack.start();
    await catalog(stack);
  });
  afterAll(() => stack?.stop());

  it('builds three containers to ACTIVE, each holding inside its namespace the MAC and address the API gave it', async () => {
    a = await stack.createInstance({ name: 'a', network: 'vlan100' });
    b = await stack.createInstance({ name: 'b', network: 'vlan100' });
    // Same subnet on another VLAN; a distinct address so that reaching it could only mean leaking across VLANs.
    c = await stack.createInstance({ name: 'c', network: 'vlan200', ip: `${net}.50` });
    for (const [instance, vlan] of [
      [a, 100],
      [b, 100],
      [c, 200],
    ] as const) {
      expect(instance).toMatchObject({
        status: 'ACTIVE',
        taskState: null,
        powerState: 'RUNNING',
        host: stack.hostName,
        vlan,
      });
      expect(await insideView(instance.id)).toEqual({ mac: instance.mac, addresses: [`${instance.ip}/24`] });
      expect(await ovsTag(instance.id)).toBe(vlan);
    }
    expect([a.ip, b.ip, c.ip]).toEqual([`${net}.2`, `${net}.3`, `${net}.50`]);
  });

  it('carries TCP between the two on VLAN 100, while neither ping nor TCP crosses to VLAN 200', async () => {
    await serveTcp(a.id, 8080, 'hello-from-a');
    await serveTcp(c.id, 8080, 'hello-from-c');
    expect(await stack.until('TCP from b to a', () => tcpFrom(b.id, a.ip, 8080), 10_000)).toBe('hello-from-a');
    expect(await pingFrom(b.id, a.ip)).toBe(true);
    expect(await tcpFrom(b.id, c.ip, 8080)).toBeNull();
    expect(await pingFrom(b.id, c.ip)).toBe(false);
    expect(await tcpFrom(c.id, a.ip, 8080)).toBeNull();
    expect(await pingFrom(a.id, c.ip)).toBe(false);
  });

  it('keeps the address and MAC across stop, start and reboot, and unplugs while stopped', async () => {
    const stopped = await stack.act(a.id, 'stop');
    expect(stopped).toMatchObject({ status: 'SHUTOFF', powerState: 'SHUTDOWN', ip: a.ip, mac: a.mac });
    expect((await hostObjects(a.id, a.portId)).filter((o) => !o.startsWith('container'))).toEqual([]);

    expect(await stack.act(a.id, 'start')).toMatchObject({ status: 'ACTIVE', powerState: 'RUNNING', ip: a.ip });
    expect(await insideView(a.id)).toEqual({ mac: a.mac, addresses: [`${a.ip}/24`] });

    expect(await stack.act(a.id, 'reboot')).toMatchObject({ status: 'ACTIVE', powerState: 'RUNNING', ip: a.ip });
    expect(await insideView(a.id)).toEqual({ mac: a.mac, addresses: [`${a.ip}/24`] });
    expect(await ovsTag(a.id)).toBe(100);
    await serveTcp(a.id, 8080, 'back-again');
    expect(await stack.until('TCP after reboot', () => tcpFrom(b.id, a.ip, 8080), 10_000)).toBe('back-again');
  });

  it('answers 409 to an action the state does not allow', async () => {
    const res = await stack.call('POST', `/v1/instances/${a.id}/actions`, { action: 'start' });
    expect(res.status).toBe(409);
  });

  it('after delete leaves no container, veth, OVS port, allocation or address', async () => {
    for (const instance of [a, b, c]) {
      expect((await stack.remove(instance.id)).status).toBe('succeeded');
      expect((await stack.call('GET', `/v1/instances/${instance.id}`)).status).toBe(404);
      expect(await hostObjects(instance.id, instance.portId)).toEqual([]);
    }
    const hosts = (await stack.call('GET', '/v1/hosts')).body.items;
    expect(hosts.find((h: any) => h.name === stack.hostName).usage).toEqual({
      vcpus: 0,
      pcpus: 0,
      pinnedCpus: [],
      ramMb: 0,
      diskGb: 0,
      pids: 0,
      instances: 0,
    });
    const networks = (await stack.call('GET', '/v1/networks')).body.items;
    expect(networks.map((n: any) => n.ipsUsed)).toEqual([0, 0]);
  });
});

describe.each([
  ['network.ovs-port', 'network', 'the OVS port is refused'],
  ['network.address', 'network', 'the address cannot be set, after veth and OVS port exist'],
  ['docker.limits', 'limits', 'the limits are written (IO throttles, QoS, meter) but not read back'],
])('a build that fails at %s (step %s: %s)', (failpoint, step) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start({ failpoints: [failpoint] });
    await catalog(stack);
  });
  afterAll(() => stack?.stop());

  it('ends in ERROR naming the step, with nothing left on the host and its claim released', async () => {
    const res = await stack.call('POST', '/v1/instances', {
      name: 'doomed',
      kind: 'container',
      flavor: 'm1.tiny',
      image: 'busybox',
      network: 'vlan100',
      limits: { netIngressMbps: 50, netEgressMbps: 50, diskWriteBps: 50 * 1024 * 1024 },
    });
    const op = await stack.operation(res.body.operationId);
    expect(op).toMatchObject({
      status: 'failed',
      fault: { step, message: `injected failure at ${failpoint}` },
    });
    const instance = (await stack.call('GET', `/v1/instances/${res.body.instance.id}`)).body;
    expect(instance).toMatchObject({ status: 'ERROR', host: null, fault: { step }, appliedLimits: null });
    expect(await hostObjects(instance.id, instance.portId)).toEqual([]);
    const host = (await stack.call('GET', '/v1/hosts')).body.items[0];
    expect(host.usage).toEqual({ vcpus: 0, pcpus: 0, pinnedCpus: [], ramMb: 0, diskGb: 0, pids: 0, instances: 0 });

    expect((await stack.remove(instance.id)).status).toBe('succeeded');
    const networks = (await stack.call('GET', '/v1/networks')).body.items;
    expect(networks.map((n: any) => n.ipsUsed)).toEqual([0, 0]);
  });
});

describe('a build whose image is not in the registry', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start();
    await catalog(stack);
  });
  afterAll(() => stack?.stop());

  it('fails at the image step and leaves nothing behind', async () => {
    const registry = testEnv().image.split('/')[0];
    await stack.call('POST', '/v1/images', {
      name: 'ghost',
      kind: 'container',
      ref: `${registry}/berth-test/ghost:missing`,
    });
    const res = await stack.call('POST', '/v1/instances', {
      name: 'ghost',
      kind: 'container',
      flavor: 'm1.tiny',
      image: 'ghost',
      network: 'vlan100',
    });
    const op = await stack.operation(res.body.operationId);
    expect(op).toMatchObject({ status: 'failed', fault: { step: 'image' } });
    const instance = (await stack.call('GET', `/v1/instances/${res.body.instance.id}`)).body;
    expect(instance.status).toBe('ERROR');
    expect(await hostObjects(instance.id, instance.portId)).toEqual([]);
  });
});
