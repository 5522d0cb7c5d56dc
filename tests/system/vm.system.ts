import { cgroupsOfProcess, readIoWeight } from '@berth/cgroups';
import { domainName, tapName } from '@berth/drivers';
import { hostNet, listPorts, readPortSecurity } from '@berth/network';
import { runCommand } from '@berth/platform';
import { randomInt } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { guestExec, insideView, readyBoot, serveTcp, tcpFrom } from './support/probes';
import { hostObjects, TestStack } from './support/stack';
import { vmHost } from './support/vm-host';
import { testEnv } from './support/test-env';

// VMs through the whole stack: the same API, scheduler and networks as containers. A VM and a
// container on VLAN 100 talk TCP; a container on VLAN 200 with an address in the same subnet cannot.

const env = testEnv();
const net = `10.${randomInt(100, 200)}.${randomInt(0, 255)}`;
const vms = vmHost('stack');
const instancesDir = vms.dir;
/** Berth's test image, registered by its files; each host caches them on first use. */
const vmImage = {
  name: 'test-vm',
  kind: 'vm',
  ref: join(env.vmImageDir, 'disk.qcow2'),
  kernelRef: join(env.vmImageDir, 'vmlinuz'),
  initrdRef: join(env.vmImageDir, 'initrd.img'),
};
const virsh = (...args: string[]) => runCommand(['virsh', '-c', 'qemu:///system', ...args]);

describe('VMs and containers through the stack (real libvirtd, QEMU, dockerd, OVS)', () => {
  let stack: TestStack;
  let vm: any;
  let peer: any;
  let stranger: any;

  const consoleSocket = (id: string) => join(instancesDir, id, 'console.sock');
  const consoleOf = (id: string) => readFile(join(instancesDir, id, 'console.log'), 'utf8').catch(() => '');
  /** Waits until the guest's latest boot says it is ready; returns what that boot printed. */
  const guestReady = (id: string) =>
    stack.until(
      'the guest to be ready',
      async () => {
        return readyBoot(await consoleOf(id));
      },
      90_000,
    );

  beforeAll(async () => {
    stack = await TestStack.start({
      env: { ...vms.env, BERTH_POWER_SYNC_SEC: '1' },
    });
    for (const [path, body] of [
      ['/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 128, diskGb: 1 }],
      ['/v1/flavors', { name: 'm1.tiny2', vcpus: 2, ramMb: 128, diskGb: 1 }],
      ['/v1/flavors', { name: 'm1.big', vcpus: 1, ramMb: 256, diskGb: 1 }],
      ['/v1/images', { name: 'busybox', kind: 'container', ref: env.image }],
      ['/v1/images', vmImage],
      ['/v1/networks', { name: 'vlan100', vlan: 100, cidr: `${net}.0/24`, gateway: `${net}.1` }],
      ['/v1/networks', { name: 'vlan200', vlan: 200, cidr: `${net}.0/24`, gateway: `${net}.1` }],
    ] as const) {
      expect((await stack.call('POST', path, body)).status).toBe(201);
    }
  });
  afterAll(async () => {
    await stack?.stop();
    await vms.remove();
  });

  it('builds a VM to ACTIVE on a host with the libvirt driver; its console shows the address the API gave it', async () => {
    vm = await stack.createInstance({ name: 'vm-1', kind: 'vm', image: 'test-vm', network: 'vlan100' });
    expect(vm).toMatchObject({ status: 'ACTIVE', powerState: 'RUNNING', host: stack.hostName, vlan: 100 });
    expect(vm.appliedLimits).toMatchObject({ ramMb: 128, cpus: 1, procView: 'guest' });
    expect(await guestReady(vm.id)).toContain(`berth-test-vm: eth0 ${vm.ip}/24`);
    expect((await runCommand(['ovs-vsctl', 'get', 'Port', tapName(vm.portId), 'tag'])).trim()).toBe('100');
  });

  it('talks TCP both ways with a container on VLAN 100; a VM on VLAN 200 is reached by neither', async () => {
    peer = await stack.createInstance({ name: 'peer', network: 'vlan100' });
    stranger = await stack.createInstance({ name: 'stranger', network: 'vlan200', ip: `${net}.50` });
    // Same subnet, another VLAN: only the VLAN keeps them apart.
    const vm200 = await stack.createInstance({
      name: 'vm-200',
      kind: 'vm',
      image: 'test-vm',
      network: 'vlan200',
      ip: `${net}.60`,
    });
    expect(await stack.until('TCP from the container to the VM', () => tcpFrom(peer.id, vm.ip, 8080), 30_000)).toBe(
      'hello-from-vm',
    );
    await serveTcp(peer.id, 9000, 'hello-from-peer');
    expect(await guestExec(consoleSocket(vm.id), `nc -w 3 ${peer.ip} 9000`)).toEqual({
      code: 0,
      output: 'hello-from-peer',
    });
    expect(await tcpFrom(stranger.id, vm.ip, 8080)).toBeNull();

    await guestReady(vm200.id);
    // The VLAN 200 VM serves its own VLAN (so the misses below are the VLAN's doing), and nobody on VLAN 100.
    expect(await stack.until('TCP on VLAN 200', () => tcpFrom(stranger.id, vm200.ip, 8080), 30_000)).toBe(
      'hello-from-vm',
    );
    expect(await tcpFrom(peer.id, vm200.ip, 8080)).toBeNull();
    const fromVm = await guestExec(consoleSocket(vm.id), `nc -w 3 ${vm200.ip} 8080`);
    expect(fromVm.code).not.toBe(0);
    expect(fromVm.output).not.toContain('hello-from-vm');
    expect((await stack.remove(vm200.id)).status).toBe('succeeded');
  });

  it('drops what a guest forges on its tap: a source address not its own never reaches the container beside it', async () => {
    const serial = consoleSocket(vm.id);
    const echoes = async () => {
      const pid = (await runCommand(['/usr/bin/docker', 'inspect', '-f', '{{.State.Pid}}', `berth-${peer.id}`])).trim();
      const snmp = await runCommand(['nsenter', `--target=${pid}`, '--net', 'cat', '/proc/net/snmp']);
      const [names, values] = snmp.split('\n').filter((l) => l.startsWith('Icmp:'));
      return Number(values?.split(/\s+/)[names?.split(/\s+/).indexOf('InEchos') ?? -1]);
    };
    const dropped = async () => (await readPortSecurity(hostNet({ bridge: env.bridge }), vm.portId)).dropped;
    // Its own address reaches the container (so the probe sees what gets through).
    let before = await echoes();
    expect((await guestExec(serial, `ping -c 2 -W 2 ${peer.ip}`)).code).toBe(0);
    expect(await echoes()).toBeGreaterThanOrEqual(before + 2);
    // The guest is root in its own kernel: it takes an address that is not its port's and sends from it.
    const forged = '192.0.2.66';
    expect((await guestExec(serial, `ip addr add ${forged}/32 dev eth0`)).code).toBe(0);
    try {
      before = await echoes();
      const drops = await dropped();
      expect((await guestExec(serial, `ping -c 3 -W 1 -I ${forged} ${peer.ip}`)).code).not.toBe(0);
      expect(await echoes()).toBe(before);
      expect(await dropped()).toBeGreaterThanOrEqual(drops + 3);
    } finally {
      await guestExec(serial, `ip addr del ${forged}/32 dev eth0`);
    }
  });

  it('keeps its address across stop, start and reboot', async () => {
    expect(await stack.act(vm.id, 'stop')).toMatchObject({ status: 'SHUTOFF', powerState: 'SHUTDOWN' });
    expect(await listPorts(hostNet({ bridge: env.bridge }))).not.toContain(tapName(vm.portId));
    expect(await stack.act(vm.id, 'start')).toMatchObject({ status: 'ACTIVE', ip: vm.ip });
    expect(await guestReady(vm.id)).toContain(`berth-test-vm: eth0 ${vm.ip}/24`);
    expect(await stack.act(vm.id, 'reboot')).toMatchObject({ status: 'ACTIVE', ip: vm.ip });
    expect(await guestReady(vm.id)).toContain(`berth-test-vm: eth0 ${vm.ip}/24`);
    expect(await stack.until('TCP after the reboot', () => tcpFrom(peer.id, vm.ip, 8080), 30_000)).toBe(
      'hello-from-vm',
    );
  });

  it("shows the VM's own usage: CPU as libvirt counts it, traffic as its tap counts it", async () => {
    const cpuTime = async () =>
      Number(/cpu\.time=(\d+)/.exec(await runCommand(['virsh', 'domstats', '--cpu-total', `berth-${vm.id}`]))?.[1]) /
      1e9;
    const tap = async () => {
      const [link] = JSON.parse(
        await runCommand(['ip', '-s', '-j', 'link', 'show', 'dev', tapName(vm.portId)]),
      ) as Array<{
        stats64: { rx: { bytes: number }; tx: { bytes: number } };
      }>;
      return link!.stats64;
    };
    expect(await tcpFrom(peer.id, vm.ip, 8080)).toBe('hello-from-vm');
    const before = await cpuTime();
    const res = await stack.call('GET', `/v1/instances/${vm.id}/stats`);
    const after = await cpuTime();
    const counted = await tap();
    expect(res.status).toBe(200);
    expect(res.body.cpu.vcpus).toBe(1);
    expect(res.body.cpu.usedSeconds).toBeGreaterThanOrEqual(before - 0.001);
    expect(res.body.cpu.usedSeconds).toBeLessThanOrEqual(after + 0.001);
    expect(res.body.memory.limitBytes).toBe(128 * 1024 * 1024);
    expect(res.body.memory.usedBytes).toBeGreaterThan(0);
    // The guest's direction: what the tap sent, the guest received.
    expect(res.body.network.rxBytes).toBeGreaterThan(0);
    expect(Math.abs(res.body.network.rxBytes - counted.tx.bytes)).toBeLessThan(4096);
    expect(Math.abs(res.body.network.txBytes - counted.rx.bytes)).toBeLessThan(4096);
  });

  it('grows to 2 vCPUs live, read back from libvirt; a memory change while it runs fails and keeps what it had', async () => {
    const up = await stack.call('POST', `/v1/instances/${vm.id}/actions`, { action: 'resize', flavor: 'm1.tiny2' });
    expect(up.status).toBe(202);
    expect(await stack.operation(up.body.operationId)).toMatchObject({ status: 'succeeded' });
    const grown = (await stack.call('GET', `/v1/instances/${vm.id}`)).body;
    expect(grown).toMatchObject({ status: 'ACTIVE', flavor: { name: 'm1.tiny2' }, appliedLimits: { cpus: 2 } });
    expect((await virsh('vcpucount', domainName(vm.id), '--live', '--active')).trim()).toBe('2');

    const mem = await stack.call('POST', `/v1/instances/${vm.id}/actions`, { action: 'resize', flavor: 'm1.big' });
    const op = await stack.operation(mem.body.operationId);
    expect(op).toMatchObject({ status: 'failed', fault: { step: 'limits' } });
    expect(op.fault.message).toContain('only while it is stopped');
    expect((await stack.call('GET', `/v1/instances/${vm.id}`)).body).toMatchObject({
      status: 'ACTIVE',
      flavor: { name: 'm1.tiny2' },
      limits: { ramMb: 128 },
    });
    expect(await stack.until('TCP after the resize', () => tcpFrom(peer.id, vm.ip, 8080), 30_000)).toBe(
      'hello-from-vm',
    );
  });

  it('sets its disk weight live through blkiotune, read back by libvirt and from its QEMU process cgroup', async () => {
    // A kernel without BFQ cannot hold a weight (libvirt refuses one): asking fails at step limits, changes nothing.
    if ((await stack.call('GET', `/v1/instances/${vm.id}`)).body.appliedLimits.diskWeight === null) {
      const refused = await stack.call('POST', `/v1/instances/${vm.id}/actions`, {
        action: 'set-limits',
        limits: { diskWeight: 300 },
      });
      expect(await stack.operation(refused.body.operationId)).toMatchObject({
        status: 'failed',
        fault: { step: 'limits' },
      });
      const after = (await stack.call('GET', `/v1/instances/${vm.id}`)).body;
      expect(after).toMatchObject({
        status: 'ACTIVE',
        limits: { diskWeight: null },
        appliedLimits: { diskWeight: null },
      });
      return;
    }
    expect((await stack.call('GET', `/v1/instances/${vm.id}`)).body.appliedLimits.diskWeight).toBe(100);
    const res = await stack.call('POST', `/v1/instances/${vm.id}/actions`, {
      action: 'set-limits',
      limits: { diskWeight: 300 },
    });
    expect(res.status).toBe(202);
    expect(await stack.operation(res.body.operationId)).toMatchObject({ status: 'succeeded' });
    expect((await stack.call('GET', `/v1/instances/${vm.id}`)).body.appliedLimits.diskWeight).toBe(300);
    expect(await virsh('blkiotune', domainName(vm.id))).toMatch(/^weight\s*:\s*300$/m);
    expect(await virsh('blkiotune', domainName(vm.id), '--config')).toMatch(/^weight\s*:\s*300$/m);
    // And from the kernel itself: the cgroup of the domain's QEMU process.
    const pid = Number((await readFile(`/run/libvirt/qemu/${domainName(vm.id)}.pid`, 'utf8')).trim());
    expect(await readIoWeight(await cgroupsOfProcess(pid))).toBe(300);
  });

  it('follows a guest shut down outside Berth to SHUTOFF, and starts it again with its address', async () => {
    await virsh('shutdown', domainName(vm.id));
    const off = await stack.until(
      'the sync to see the guest off',
      async () => {
        const row = (await stack.call('GET', `/v1/instances/${vm.id}`)).body;
        return row.status === 'SHUTOFF' ? row : null;
      },
      60_000,
    );
    expect(off).toMatchObject({ powerState: 'SHUTDOWN', taskState: null });
    expect(await stack.act(vm.id, 'start')).toMatchObject({ status: 'ACTIVE', powerState: 'RUNNING', ip: vm.ip });
    expect(await guestReady(vm.id)).toContain(`berth-test-vm: eth0 ${vm.ip}/24`);
  });

  it('puts a container removed outside Berth in ERROR with a fault, and its delete still cleans up', async () => {
    await runCommand(['/usr/bin/docker', 'rm', '-f', `berth-${stranger.id}`]);
    const gone = await stack.until(
      'the sync to see the container gone',
      async () => {
        const row = (await stack.call('GET', `/v1/instances/${stranger.id}`)).body;
        return row.status === 'ERROR' ? row : null;
      },
      30_000,
    );
    expect(gone).toMatchObject({ powerState: 'NOSTATE', fault: { step: 'sync' } });
    expect((await stack.remove(stranger.id)).status).toBe('succeeded');
    expect(await hostObjects(stranger.id, stranger.portId)).toEqual([]);
  });

  it('starts a container with restart policy always again when it is killed outside Berth, plugged as before', async () => {
    const keeper = await stack.createInstance({ name: 'keeper', network: 'vlan100', restartPolicy: 'always' });
    expect(keeper).toMatchObject({ status: 'ACTIVE', restartPolicy: 'always' });
    await runCommand(['/usr/bin/docker', 'kill', `berth-${keeper.id}`]);
    const restart = await stack.until(
      'the restart by policy',
      async () => {
        const ops = (await stack.call('GET', '/v1/operations?limit=500')).body.items as any[];
        return (
          ops.find((o) => o.targetId === keeper.id && o.action === 'instance.start' && o.status === 'succeeded') ?? null
        );
      },
      60_000,
    );
    expect(restart.steps[0]).toMatchObject({ name: 'sync' });
    const back = (await stack.call('GET', `/v1/instances/${keeper.id}`)).body;
    expect(back).toMatchObject({ status: 'ACTIVE', powerState: 'RUNNING', taskState: null });
    expect((await insideView(keeper.id)).addresses).toEqual([`${keeper.ip}/24`]);
    await serveTcp(keeper.id, 9100, 'hello-from-keeper');
    expect(await stack.until('TCP to the restarted container', () => tcpFrom(peer.id, keeper.ip, 9100), 30_000)).toBe(
      'hello-from-keeper',
    );
    expect((await stack.remove(keeper.id)).status).toBe('succeeded');
  });

  it("shows the last lines of a VM's serial console and of a container's output", async () => {
    // The guest's own state decides what its console holds: wait for its latest boot to be up (in CI runs
    // the last 50 lines here were early kernel boot: the TCG guest had reset on its own, with no panic).
    await guestReady(vm.id);
    const vmConsole = await stack.call('GET', `/v1/instances/${vm.id}/console?lines=50`);
    expect(vmConsole).toMatchObject({ status: 200 });
    expect(vmConsole.body.lines.length).toBeLessThanOrEqual(50);
    expect(vmConsole.body.lines).toContain(`berth-test-vm: eth0 ${vm.ip}/24`);

    await runCommand(['/usr/bin/docker', 'exec', `berth-${peer.id}`, 'sh', '-c', 'echo hello-from-peer >/proc/1/fd/1']);
    const out = await stack.call('GET', `/v1/instances/${peer.id}/console?lines=5`);
    expect(out).toMatchObject({ status: 200, body: { lines: expect.arrayContaining(['hello-from-peer']) } });
    expect((await stack.call('GET', `/v1/instances/${peer.id}/console?lines=0`)).status).toBe(400);
  });

  it('after delete leaves no domain, disk, seed, tap or OVS port', async () => {
    expect((await stack.remove(vm.id)).status).toBe('succeeded');
    expect(
      await virsh('dominfo', domainName(vm.id)).then(
        () => 'present',
        () => 'gone',
      ),
    ).toBe('gone');
    expect(
      await access(join(instancesDir, vm.id)).then(
        () => 'present',
        () => 'gone',
      ),
    ).toBe('gone');
    expect(await hostObjects(vm.id, vm.portId)).toEqual([]);
    expect(await listPorts(hostNet({ bridge: env.bridge }))).not.toContain(tapName(vm.portId));
  });
});

describe.each([
  ['libvirt.define', 'define'],
  ['libvirt.start', 'start'],
])('a VM build that fails at %s', (failpoint, step) => {
  let stack: TestStack;
  const failing = vmHost('fail');
  beforeAll(async () => {
    stack = await TestStack.start({
      failpoints: [failpoint],
      env: failing.env,
    });
    await stack.call('POST', '/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 128, diskGb: 1 });
    await stack.call('POST', '/v1/images', vmImage);
    await stack.call('POST', '/v1/networks', { name: 'vlan100', vlan: 100, cidr: `${net}.0/24`, gateway: `${net}.1` });
  });
  afterAll(async () => {
    await stack?.stop();
    await failing.remove();
  });

  it('ends in ERROR naming the step, with no domain, directory, tap or claim left', async () => {
    const res = await stack.call('POST', '/v1/instances', {
      name: 'doomed-vm',
      kind: 'vm',
      flavor: 'm1.tiny',
      image: 'test-vm',
      network: 'vlan100',
    });
    const op = await stack.operation(res.body.operationId);
    expect(op).toMatchObject({ status: 'failed', fault: { step, message: `injected failure at ${failpoint}` } });
    const instance = (await stack.call('GET', `/v1/instances/${res.body.instance.id}`)).body;
    expect(instance).toMatchObject({ status: 'ERROR', host: null, fault: { step } });
    expect(
      await virsh('dominfo', domainName(instance.id)).then(
        () => 'present',
        () => 'gone',
      ),
    ).toBe('gone');
    expect(
      await access(join(failing.dir, instance.id)).then(
        () => 'present',
        () => 'gone',
      ),
    ).toBe('gone');
    expect(await hostObjects(instance.id, instance.portId)).toEqual([]);
    const host = (await stack.call('GET', '/v1/hosts')).body.items[0];
    expect(host.usage).toMatchObject({ vcpus: 0, ramMb: 0, instances: 0 });
    expect((await stack.remove(instance.id)).status).toBe('succeeded');
  });
});
