import { blockDeviceOf, cgroupsOfProcess, readCgroupLimits } from '@berth/cgroups';
import { newSshKeyPair } from '@berth/enroll';
import { runCommand } from '@berth/platform';
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveTcp, tcpFrom } from './support/probes';
import { createOn, identity, migrate, registry, startStack } from './support/migration';
import { adminAuth, openstack, openstackEnv } from './support/openstack-client';
import type { TestStack } from './support/stack';
import { testEnv } from './support/test-env';
import {
  docker,
  dockerSocketOf,
  testbedInsideView,
  testbedLeftovers,
  testbedPid,
  testbedTracesOf,
  vsctl,
} from './support/testbed';

// Cold migration of a container between testbed hosts, each with its own dockerd and OVS: docker
// commit on the source, push to the registry, pull on the target, the same identity there.

const MIB = 1024 * 1024;

const applied = (i: any) => {
  const { readAt: _, ...rest } = i.appliedLimits;
  return rest;
};

describe('cold migration of a container between hosts (testbed: own dockerd and OVS per host)', () => {
  let stack: TestStack;
  let mover: any;
  let peer: any;
  const payload = `payload-${randomBytes(6).toString('hex')}`;

  beforeAll(async () => {
    stack = await startStack();
    mover = await createOn(stack, 1, 'mover');
    peer = await createOn(stack, 3, 'peer');
    await docker(1, 'exec', `berth-${mover.id}`, 'sh', '-c', `echo ${payload} > /data.txt`);
  });
  afterAll(() => stack?.stop());

  it('moves to host 2 and awaits verification there, with progress on push and pull', async () => {
    const op = await migrate(stack, mover.id, 2);
    expect(op).toMatchObject({ status: 'succeeded' });
    const names = op.steps.map((s: any) => s.name);
    for (const step of ['schedule', 'stop', 'commit', 'push', 'pull', 'create', 'start', 'network', 'limits']) {
      expect(names).toContain(step);
    }
    expect(op.steps.find((s: any) => s.name === 'push').detail).toMatch(/^pushed .* MB .*layers$/);
    expect(op.steps.find((s: any) => s.name === 'pull').detail).toMatch(/^pulled .* MB .*layers$/);

    const moved = (await stack.call('GET', `/v1/instances/${mover.id}`)).body;
    expect(moved).toMatchObject({ status: 'VERIFY_MIGRATION', host: stack.testbedHostNames[1], taskState: null });
    const [record] = (await stack.call('GET', `/v1/instances/${mover.id}/migrations`)).body.items;
    expect(record).toMatchObject({
      status: 'finished',
      sourceHost: stack.testbedHostNames[0],
      targetHost: stack.testbedHostNames[1],
      snapshotRef: `${registry}/berth-snapshots/${mover.id}:${record.id}`,
      wasRunning: true,
    });
    // Both hosts hold the instance's size until the move is confirmed or reverted.
    const hosts = (await stack.call('GET', '/v1/hosts')).body.items;
    for (const name of stack.testbedHostNames.slice(0, 2)) {
      expect(hosts.find((h: any) => h.name === name).usage).toMatchObject({ ramMb: 128 });
    }
  });

  it('keeps id, IP, MAC, VLAN and every limit, read back from the target kernel and OVS, and its data', async () => {
    const moved = (await stack.call('GET', `/v1/instances/${mover.id}`)).body;
    expect(identity(moved)).toEqual(identity(mover));
    expect(applied(moved)).toEqual(applied(mover));
    expect(await testbedInsideView(2, mover.id)).toEqual({ mac: mover.mac, ip: [`${mover.ip}/24`] });
    expect((await docker(2, 'exec', `berth-${mover.id}`, 'cat', '/data.txt')).trim()).toBe(payload);

    const device = (await blockDeviceOf('/var/lib/berth-testbed/tb2/docker')).id;
    const kernel = await readCgroupLimits(await cgroupsOfProcess(await testbedPid(2, mover.id)), device);
    expect(kernel).toMatchObject({ cpuQuotaUs: 50_000, memoryBytes: 128 * MIB, io: { writeIops: 500 } });
    const port = `bvh${mover.portId.replace(/-/g, '').slice(0, 12)}`;
    expect((await vsctl(2, 'get', 'Port', port, 'tag')).trim()).toBe('100');
    expect((await vsctl(2, 'get', 'Interface', port, 'external_ids:berth-instance')).trim()).toBe(`"${mover.id}"`);
  });

  it('is reached over TCP at the same address by a peer on host 3', async () => {
    await serveTcp(mover.id, 9000, 'hello-after-migration', dockerSocketOf(2));
    expect(
      await stack.until('TCP to the moved instance', () => tcpFrom(peer.id, mover.ip, 9000, dockerSocketOf(3)), 20_000),
    ).toBe('hello-after-migration');
  });

  it('after confirm, host 1 holds nothing of it, its claim there is gone and the snapshot left the registry', async () => {
    const res = await stack.call('POST', `/v1/instances/${mover.id}/actions`, { action: 'confirm' });
    expect(res.status).toBe(202);
    expect(await stack.operation(res.body.operationId)).toMatchObject({ status: 'succeeded' });
    expect((await stack.call('GET', `/v1/instances/${mover.id}`)).body).toMatchObject({
      status: 'ACTIVE',
      host: stack.testbedHostNames[1],
    });
    const [record] = (await stack.call('GET', `/v1/instances/${mover.id}/migrations`)).body.items;
    expect(record.status).toBe('confirmed');
    expect(await testbedLeftovers(stack, 1)).toEqual([]);
    const images = await docker(1, 'images', '-q', `${registry}/berth-snapshots/${mover.id}`);
    expect(images.trim()).toBe('');
    const tag = await fetch(`http://${registry}/v2/berth-snapshots/${mover.id}/manifests/${record.id}`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    expect(tag.status).toBe(404);
    const hosts = (await stack.call('GET', '/v1/hosts')).body.items;
    expect(hosts.find((h: any) => h.name === stack.testbedHostNames[0]).usage).toMatchObject({
      ramMb: 0,
      instances: 0,
    });
  });

  it('moves again (to host 1) and, reverted by the admin, is back on host 2 as it was, host 1 clean', async () => {
    expect(await migrate(stack, mover.id, 1)).toMatchObject({ status: 'succeeded' });
    expect((await stack.call('GET', `/v1/instances/${mover.id}`)).body).toMatchObject({
      status: 'VERIFY_MIGRATION',
      host: stack.testbedHostNames[0],
    });
    const res = await stack.call('POST', `/v1/instances/${mover.id}/actions`, { action: 'revert' });
    expect(res.status).toBe(202);
    expect(await stack.operation(res.body.operationId)).toMatchObject({ status: 'succeeded' });
    const back = (await stack.call('GET', `/v1/instances/${mover.id}`)).body;
    expect(back).toMatchObject({ status: 'ACTIVE', host: stack.testbedHostNames[1], taskState: null });
    expect(identity(back)).toEqual(identity(mover));
    const [record] = (await stack.call('GET', `/v1/instances/${mover.id}/migrations`)).body.items;
    expect(record).toMatchObject({ status: 'reverted', failedStep: null, targetHost: stack.testbedHostNames[0] });
    expect((await docker(2, 'exec', `berth-${mover.id}`, 'cat', '/data.txt')).trim()).toBe(payload);
    expect(await testbedLeftovers(stack, 1)).toEqual([]);
    // The snapshot stopped it, the revert started it again: its server is started afresh.
    await serveTcp(mover.id, 9001, 'hello-after-revert', dockerSocketOf(2));
    expect(
      await stack.until('TCP after the revert', () => tcpFrom(peer.id, mover.ip, 9001, dockerSocketOf(3)), 20_000),
    ).toBe('hello-after-revert');
    const hosts = (await stack.call('GET', '/v1/hosts')).body.items;
    expect(hosts.find((h: any) => h.name === stack.testbedHostNames[0]).usage).toMatchObject({
      ramMb: 0,
      instances: 0,
    });
  });

  it('refuses the host it is on (400), an unknown host (404), and a confirm with no migration open (409)', async () => {
    const self = await stack.call('POST', `/v1/instances/${mover.id}/actions`, {
      action: 'migrate',
      host: stack.testbedHostNames[1],
    });
    expect(self.status).toBe(400);
    expect(self.body.error.details[0]).toMatchObject({ field: 'host', rule: 'other' });
    const unknown = await stack.call('POST', `/v1/instances/${mover.id}/actions`, { action: 'migrate', host: 'nope' });
    expect(unknown.status).toBe(404);
    const confirm = await stack.call('POST', `/v1/instances/${mover.id}/actions`, { action: 'confirm' });
    expect(confirm.status).toBe(409);
    expect((await stack.call('GET', `/v1/instances/${mover.id}`)).body).toMatchObject({
      status: 'ACTIVE',
      taskState: null,
    });
  });

  it('drains host 2: it leaves scheduling and both its instances move off, confirmed, with a step each', async () => {
    const second = await createOn(stack, 2, 'second');
    const host2 = (await stack.call('GET', '/v1/hosts')).body.items.find(
      (h: any) => h.name === stack.testbedHostNames[1],
    );
    const res = await stack.call('POST', `/v1/hosts/${host2.id}/drain`);
    expect(res.status).toBe(202);
    const op = await stack.operation(res.body.operationId, 120_000);
    expect(op).toMatchObject({ status: 'succeeded', action: 'host.drain' });
    expect(op.steps.map((s: any) => [s.name, s.status]).sort()).toEqual(
      [mover.id, second.id].map((id) => [`migrate ${id}`, 'succeeded']).sort(),
    );
    for (const id of [mover.id, second.id]) {
      const moved = (await stack.call('GET', `/v1/instances/${id}`)).body;
      expect(moved).toMatchObject({ status: 'ACTIVE', taskState: null });
      expect([stack.testbedHostNames[0], stack.testbedHostNames[2]]).toContain(moved.host);
      const [record] = (await stack.call('GET', `/v1/instances/${id}/migrations`)).body.items;
      expect(record).toMatchObject({ status: 'confirmed', sourceHost: stack.testbedHostNames[1] });
    }
    const movedMover = (await stack.call('GET', `/v1/instances/${mover.id}`)).body;
    const where = stack.testbedHostNames.indexOf(movedMover.host) + 1;
    expect((await docker(where, 'exec', `berth-${mover.id}`, 'cat', '/data.txt')).trim()).toBe(payload);
    expect(identity(movedMover)).toEqual(identity(mover));
    const after = (await stack.call('GET', `/v1/hosts/${host2.id}`)).body;
    expect(after).toMatchObject({ enabled: false, disabledReason: 'draining', usage: { ramMb: 0, instances: 0 } });
    expect(await testbedLeftovers(stack, 2)).toEqual([]);
  });

  it('is migrated and confirmed by the cloud admin with the openstack client (server migrate --wait, confirm)', async () => {
    const from = (await stack.call('GET', `/v1/instances/${mover.id}`)).body.host as string;
    // Host 2 is drained: the scheduler's only choice is the other of hosts 1 and 3.
    const to = stack.testbedHostNames.find((n, i) => i !== 1 && n !== from);
    const home = await mkdtemp(join(tmpdir(), 'berth-openstack-'));
    try {
      const env = openstackEnv(stack, home, adminAuth(stack));
      expect(await openstack(env, 'server', 'migrate', '--wait', mover.id)).toContain('Complete');
      const shown = JSON.parse(await openstack(env, 'server', 'show', '-f', 'json', mover.id));
      expect(shown).toMatchObject({ status: 'VERIFY_RESIZE', 'OS-EXT-SRV-ATTR:host': to });
      await openstack(env, 'server', 'migrate', 'confirm', mover.id);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
    const confirmed = await stack.until('the confirm to end', async () => {
      const [record] = (await stack.call('GET', `/v1/instances/${mover.id}/migrations`)).body.items;
      return record.status === 'confirmed' ? record : null;
    });
    expect(confirmed).toMatchObject({ sourceHost: from, targetHost: to });
    const moved = (await stack.call('GET', `/v1/instances/${mover.id}`)).body;
    expect(moved).toMatchObject({ status: 'ACTIVE', host: to, taskState: null });
    expect(identity(moved)).toEqual(identity(mover));
    expect(await testbedTracesOf(stack.testbedHostNames.indexOf(from) + 1, mover.id)).toEqual([]);
    expect(await testbedTracesOf(stack.testbedHostNames.indexOf(to ?? '') + 1, mover.id)).toHaveLength(2);
  });
});

// A fault at each step, one at a time, on the host that runs it: the move undoes itself.
describe.each([
  ['commit', 1, 'docker.commit'],
  ['push', 1, 'docker.push'],
  ['pull', 2, 'docker.pull'],
  ['create', 2, 'docker.create'],
  ['network', 2, 'network.ovs-port'],
  ['limits', 2, 'docker.limits'],
])('a migration whose %s fails (on host %d)', (step, host, failpoint) => {
  let stack: TestStack;
  let mover: any;
  let peer: any;
  const payload = `payload-${randomBytes(6).toString('hex')}`;

  beforeAll(async () => {
    stack = await startStack({ [host]: [failpoint] });
    mover = await createOn(stack, 1, 'mover');
    peer = await createOn(stack, 3, 'peer');
    await docker(1, 'exec', `berth-${mover.id}`, 'sh', '-c', `echo ${payload} > /data.txt`);
  });
  afterAll(() => stack?.stop());

  it('reverts: ACTIVE on host 1 with its address and data, the record names the step, host 2 holds nothing', async () => {
    const op = await migrate(stack, mover.id, 2);
    expect(op).toMatchObject({ status: 'failed', fault: { step } });
    expect(op.fault.message).toContain(`injected failure at ${failpoint}`);
    expect(op.steps.map((s: any) => s.name)).toContain('revert');

    const back = (await stack.call('GET', `/v1/instances/${mover.id}`)).body;
    expect(back).toMatchObject({
      status: 'ACTIVE',
      powerState: 'RUNNING',
      host: stack.testbedHostNames[0],
      taskState: null,
    });
    expect(identity(back)).toEqual(identity(mover));
    const [record] = (await stack.call('GET', `/v1/instances/${mover.id}/migrations`)).body.items;
    expect(record).toMatchObject({ status: 'error', failedStep: step, fault: { step } });

    expect((await docker(1, 'exec', `berth-${mover.id}`, 'cat', '/data.txt')).trim()).toBe(payload);
    await serveTcp(mover.id, 9000, 'hello-after-revert', dockerSocketOf(1));
    expect(
      await stack.until('TCP after the revert', () => tcpFrom(peer.id, mover.ip, 9000, dockerSocketOf(3)), 20_000),
    ).toBe('hello-after-revert');

    expect(await testbedLeftovers(stack, 2)).toEqual([]);
    for (const h of [1, 2]) {
      expect((await docker(h, 'images', '-q', `${registry}/berth-snapshots/${mover.id}`)).trim()).toBe('');
    }
    const tag = await fetch(`http://${registry}/v2/berth-snapshots/${mover.id}/manifests/${record.id}`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    expect(tag.status).toBe(404);
    const hosts = (await stack.call('GET', '/v1/hosts')).body.items;
    const usage = (n: number) => hosts.find((h: any) => h.name === stack.testbedHostNames[n - 1]).usage;
    expect(usage(2)).toMatchObject({ ramMb: 0, instances: 0 });
    expect(usage(1)).toMatchObject({ ramMb: 128, instances: 1 });
  });
});

// A host that dies: it stops heartbeating and is fenced off the VLAN (its trunk link down), and its
// instances are rebuilt elsewhere. When it comes back, its agent finds the stale copies and they go.
describe('evacuating a host that died (testbed)', () => {
  let stack: TestStack;
  let victim: any;
  let peer: any;
  const trunk = (state: 'up' | 'down') => runCommand(['ip', 'link', 'set', 'tbt1', state]);

  beforeAll(async () => {
    stack = await startStack({}, { BERTH_HOST_DOWN_AFTER_SEC: '5', BERTH_POWER_SYNC_SEC: '1' });
    victim = await createOn(stack, 1, 'victim');
    peer = await createOn(stack, 3, 'peer');
    await docker(1, 'exec', `berth-${victim.id}`, 'sh', '-c', 'echo written-before > /data.txt');
  });
  afterAll(async () => {
    await trunk('up');
    await stack?.stop();
  });

  const host1 = () =>
    stack.call('GET', '/v1/hosts').then((r) => r.body.items.find((h: any) => h.name === stack.testbedHostNames[0]));

  it('is refused while the host is up (409), and changes nothing', async () => {
    const res = await stack.call('POST', `/v1/hosts/${(await host1()).id}/evacuate`);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/is up/);
    expect(await host1()).toMatchObject({ enabled: true });
    expect((await stack.call('GET', `/v1/instances/${victim.id}`)).body).toMatchObject({
      status: 'ACTIVE',
      hostState: 'UP',
    });
  });

  it('rebuilds its instance elsewhere with the same identity once it is down, and says what was lost', async () => {
    await trunk('down');
    await stack.killAgent(stack.testbedHostNames[0] ?? '');
    await stack.until(
      'the host to be down',
      async () => (await stack.call('GET', `/v1/instances/${victim.id}`)).body.hostState === 'DOWN',
      30_000,
    );
    const res = await stack.call('POST', `/v1/hosts/${(await host1()).id}/evacuate`);
    expect(res.status).toBe(202);
    const op = await stack.operation(res.body.operationId, 120_000);
    expect(op).toMatchObject({ status: 'succeeded', action: 'host.evacuate' });
    expect(op.steps.map((s: any) => [s.name, s.status])).toEqual([[`evacuate ${victim.id}`, 'succeeded']]);

    const rebuilt = (await stack.call('GET', `/v1/instances/${victim.id}`)).body;
    expect(rebuilt).toMatchObject({ status: 'ACTIVE', taskState: null, hostState: 'UP' });
    expect(stack.testbedHostNames.slice(1)).toContain(rebuilt.host);
    expect(identity(rebuilt)).toEqual(identity(victim));
    const [record] = (await stack.call('GET', `/v1/instances/${victim.id}/migrations`)).body.items;
    expect(record).toMatchObject({ kind: 'evacuation', status: 'evacuated', sourceHost: stack.testbedHostNames[0] });
    expect(record.lost).toContain('rebuilt from its image');
    const where = stack.testbedHostNames.indexOf(rebuilt.host) + 1;
    expect(await testbedInsideView(where, victim.id)).toEqual({ mac: victim.mac, ip: [`${victim.ip}/24`] });
    // Rebuilt from the image: what it wrote is not there, as the record says.
    await expect(docker(where, 'exec', `berth-${victim.id}`, 'cat', '/data.txt')).rejects.toThrow(/No such file/);

    await serveTcp(victim.id, 9000, 'hello-after-evacuation', dockerSocketOf(where));
    expect(
      await stack.until(
        'TCP to the rebuilt instance',
        () => tcpFrom(peer.id, victim.ip, 9000, dockerSocketOf(3)),
        20_000,
      ),
    ).toBe('hello-after-evacuation');
    // The dead host's claim is held until it is back and has cleaned up.
    expect((await host1()).usage).toMatchObject({ ramMb: 128, instances: 1 });
  });

  it('when the host is back, its agent removes the stale copy and the claim there goes', async () => {
    expect(await testbedLeftovers(stack, 1)).not.toEqual([]);
    await trunk('up');
    stack.restartAgent(stack.testbedHostNames[0] ?? '');
    await stack.until('the stale copy to go', async () => (await testbedLeftovers(stack, 1)).length === 0, 60_000);
    await stack.until(
      'the evacuation to end',
      async () =>
        (await stack.call('GET', `/v1/instances/${victim.id}/migrations`)).body.items[0].status === 'confirmed',
      30_000,
    );
    expect((await host1()).usage).toMatchObject({ ramMb: 0, instances: 0 });
    expect(await host1()).toMatchObject({ state: 'up', enabled: false, disabledReason: 'evacuated' });
    expect((await stack.call('GET', `/v1/instances/${victim.id}`)).body).toMatchObject({ status: 'ACTIVE' });
  });
});

// A resize the host lacks room for moves the instance to a host with room (a cold resize).
describe('a cold resize (testbed)', () => {
  let stack: TestStack;
  let grower: any;
  const payload = `payload-${randomBytes(6).toString('hex')}`;

  beforeAll(async () => {
    stack = await startStack();
    expect(
      (await stack.call('POST', '/v1/flavors', { name: 'm1.big', vcpus: 2, ramMb: 4096, diskGb: 2, netEgressMbps: 30 }))
        .status,
    ).toBe(201);
    grower = await createOn(stack, 1, 'grower');
    await docker(1, 'exec', `berth-${grower.id}`, 'sh', '-c', `echo ${payload} > /data.txt`);
    // Host 1 offers a tenth of its RAM: room for the small size, not for the big one.
    const host1 = (await stack.call('GET', '/v1/hosts')).body.items.find(
      (h: any) => h.name === stack.testbedHostNames[0],
    );
    expect((await stack.call('PATCH', `/v1/hosts/${host1.id}`, { ramRatio: 0.1 })).status).toBe(200);
  });
  afterAll(() => stack?.stop());

  it('answers 409 naming the shortfall and allowMove when the resize does not fit live, and changes nothing', async () => {
    const res = await stack.call('POST', `/v1/instances/${grower.id}/actions`, { action: 'resize', flavor: 'm1.big' });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/lacks room to apply this live: it needs .*MB.*allowMove/);
    expect((await stack.call('GET', `/v1/instances/${grower.id}`)).body).toMatchObject({
      status: 'ACTIVE',
      flavor: { name: 'm1.qos' },
      host: stack.testbedHostNames[0],
    });
    const bad = await stack.call('POST', `/v1/instances/${grower.id}/actions`, { action: 'stop', allowMove: true });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0]).toMatchObject({ field: 'allowMove' });
  });

  it('with allowMove, moves to a host with room and takes the new size there: read back, same address, same data', async () => {
    const res = await stack.call('POST', `/v1/instances/${grower.id}/actions`, {
      action: 'resize',
      flavor: 'm1.big',
      allowMove: true,
    });
    expect(res.status).toBe(202);
    const op = await stack.operation(res.body.operationId, 120_000);
    expect(op).toMatchObject({ status: 'succeeded', action: 'instance.resize' });
    const grown = (await stack.call('GET', `/v1/instances/${grower.id}`)).body;
    expect(grown).toMatchObject({
      status: 'ACTIVE',
      taskState: null,
      flavor: { name: 'm1.big', vcpus: 2, ramMb: 4096 },
      limits: { ramMb: 4096, vcpus: 2, netEgressMbps: 30 },
      appliedLimits: { ramMb: 4096, cpus: 2, netEgressMbps: 30 },
      ip: grower.ip,
      mac: grower.mac,
    });
    expect(stack.testbedHostNames.slice(1)).toContain(grown.host);
    const where = stack.testbedHostNames.indexOf(grown.host) + 1;
    const kernel = await readCgroupLimits(await cgroupsOfProcess(await testbedPid(where, grower.id)), '');
    expect(kernel.memoryBytes).toBe(4096 * MIB);
    expect((await docker(where, 'exec', `berth-${grower.id}`, 'cat', '/data.txt')).trim()).toBe(payload);
    const [record] = (await stack.call('GET', `/v1/instances/${grower.id}/migrations`)).body.items;
    expect(record).toMatchObject({ status: 'confirmed', sourceHost: stack.testbedHostNames[0] });
    expect(await testbedLeftovers(stack, 1)).toEqual([]);
    const hosts = (await stack.call('GET', '/v1/hosts')).body.items;
    expect(hosts.find((h: any) => h.name === stack.testbedHostNames[0]).usage).toMatchObject({
      ramMb: 0,
      instances: 0,
    });
    expect(hosts.find((h: any) => h.name === grown.host).usage).toMatchObject({ ramMb: 4096, vcpus: 2 });
  });
});

describe('a container moving with its volume (testbed)', () => {
  let stack: TestStack;
  let mover: any;
  let volume: string;
  let sum = '';
  const file = (host: number) => join(stack.testbedVolumesDir(host), `${volume}.raw`);
  const exists = (path: string) =>
    access(path).then(
      () => true,
      () => false,
    );
  const act = async (body: Record<string, unknown>) => {
    const res = await stack.call('POST', `/v1/instances/${mover.id}/actions`, body);
    expect(res.status).toBe(202);
    return stack.operation(res.body.operationId, 120_000);
  };

  // As enrollment does: the cloud's migration key, trusted by every host, copies volumes between them.
  const key = newSshKeyPair('berth-test-volume-move');
  const keyPath = `/tmp/berth-test-volume-move-${randomBytes(4).toString('hex')}`;
  const authorizedKeys = (host: number) => `${testEnv().testbed.dataDir(host)}/ssh/authorized_keys`;

  beforeAll(async () => {
    await writeFile(keyPath, key.privateKey, { mode: 0o600 });
    for (const h of [1, 2]) {
      await writeFile(authorizedKeys(h), `${await readFile(authorizedKeys(h), 'utf8')}${key.publicKey}\n`);
    }
    stack = await startStack({}, { BERTH_MIGRATION_KEY: keyPath }, [1, 2]);
    mover = await createOn(stack, 1, 'vol-mover', [1, 2]);
    const made = await stack.call('POST', '/v1/volumes', { name: 'moving', sizeGb: 1, localTo: mover.id });
    expect(made.status).toBe(202);
    volume = made.body.id;
    expect((await stack.operation(made.body.operationId)).status).toBe('succeeded');
    expect(await act({ action: 'attach', volume, path: '/data' })).toMatchObject({ status: 'succeeded' });
    await docker(1, 'exec', `berth-${mover.id}`, 'sh', '-c', 'head -c 2097152 /dev/urandom > /data/blob && sync');
    sum = (await docker(1, 'exec', `berth-${mover.id}`, 'sha256sum', '/data/blob')).split(' ')[0] ?? '';
  });
  afterAll(async () => {
    await stack?.stop();
    for (const h of [1, 2]) {
      const now = await readFile(authorizedKeys(h), 'utf8').catch(() => '');
      const kept = now.split('\n').filter((l) => l && l !== key.publicKey.trim());
      await writeFile(authorizedKeys(h), kept.map((l) => `${l}\n`).join(''));
    }
    await rm(keyPath, { force: true });
  });

  it('copies the volume to the target over SSH, checked, and mounts it there with its data', async () => {
    const op = await migrate(stack, mover.id, 2);
    expect({ status: op.status, fault: op.fault }).toEqual({ status: 'succeeded', fault: null });
    const names = op.steps.map((s: any) => s.name);
    // The export on the source and the copy on the target each show as a volumes step.
    expect(names.filter((n: string) => n === 'volumes').length).toBeGreaterThanOrEqual(2);
    const details = op.steps.filter((s: any) => s.name === 'volumes').map((s: any) => s.detail ?? '');
    expect(details.some((d: string) => /sha256 verified$/.test(d))).toBe(true);
    expect((await docker(2, 'exec', `berth-${mover.id}`, 'sha256sum', '/data/blob')).split(' ')[0]).toBe(sum);
    // Until the move is confirmed the source keeps its copy, and the record keeps the volume there.
    expect(await exists(file(1))).toBe(true);
    expect((await stack.call('GET', `/v1/volumes/${volume}`)).body.host).toBe(stack.testbedHostNames[0]);
  });

  it('after confirm, the volume is on the target and gone from the source, its claim with it', async () => {
    expect(await act({ action: 'confirm' })).toMatchObject({ status: 'succeeded' });
    expect((await stack.call('GET', `/v1/volumes/${volume}`)).body).toMatchObject({
      status: 'in-use',
      host: stack.testbedHostNames[1],
    });
    expect(await exists(file(1))).toBe(false);
    expect(await exists(file(2))).toBe(true);
    const hosts = (await stack.call('GET', '/v1/hosts')).body.items;
    const used = (n: number) => hosts.find((h: any) => h.name === stack.testbedHostNames[n - 1]).usage.diskGb;
    expect({ source: used(1), target: used(2) }).toEqual({ source: 0, target: 1 + 1 });
  });

  it('moved back and reverted, stays on host 2 with its data, and host 1 keeps no copy', async () => {
    const op = await migrate(stack, mover.id, 1);
    expect(op).toMatchObject({ status: 'succeeded' });
    expect(await exists(file(1))).toBe(true);
    expect(await act({ action: 'revert' })).toMatchObject({ status: 'succeeded' });
    expect((await stack.call('GET', `/v1/instances/${mover.id}`)).body).toMatchObject({
      status: 'ACTIVE',
      host: stack.testbedHostNames[1],
    });
    expect((await stack.call('GET', `/v1/volumes/${volume}`)).body.host).toBe(stack.testbedHostNames[1]);
    expect(await exists(file(1))).toBe(false);
    expect((await docker(2, 'exec', `berth-${mover.id}`, 'sha256sum', '/data/blob')).split(' ')[0]).toBe(sum);
    const gone = await stack.call('DELETE', `/v1/instances/${mover.id}?deleteVolumes=true`);
    expect((await stack.operation(gone.body.operationId)).status).toBe('succeeded');
    await stack.until(
      'the volume to go',
      async () => (await stack.call('GET', `/v1/volumes/${volume}`)).status === 404,
    );
    expect(await exists(file(2))).toBe(false);
  });
});
