import { domainName } from '@berth/drivers';
import { newSshKeyPair } from '@berth/enroll';
import { runCommand } from '@berth/platform';
import { randomBytes, randomInt } from 'node:crypto';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { guestExec, readyBoot, tcpFrom } from './support/probes';
import { TestStack } from './support/stack';
import { testEnv } from './support/test-env';
import { dockerSocketOf, onlyTestbedHosts } from './support/testbed';

// Cold migration of a VM between testbed hosts 1 and 2, each with its own libvirtd, OVS and sshd in
// its namespaces: shut down on the source, its overlay disk copied to the target over SSH (ssh2 SFTP)
// and checked against its SHA-256, defined and started there with the same port.

const env = testEnv();
const tb = env.testbed;
const net = `10.${randomInt(100, 200)}.${randomInt(0, 255)}`;
const HOSTS = [1, 2];
const authorizedKeys = (host: number) => `${tb.dataDir(host)}/ssh/authorized_keys`;
const virsh = (host: number, ...args: string[]) => runCommand(['virsh', '-c', tb.libvirtUri(host), ...args]);
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** A stack on testbed hosts 1 and 2 (VMs on their own libvirtds), with a VM on host 1, a file on its disk. */
class VmPair {
  stack!: TestStack;
  vm: any;
  peer: any;
  readonly key = newSshKeyPair('berth-test-migration');
  readonly keyPath = `/tmp/berth-test-migration-${randomBytes(4).toString('hex')}`;
  readonly payload = `payload-${randomBytes(6).toString('hex')}`;

  /** The host's directory of this stack's instances. */
  dir(host: number): string {
    return this.stack.testbedInstancesDir(host);
  }

  get source(): string {
    return this.stack.testbedHostNames[0] ?? '';
  }

  get target(): string {
    return this.stack.testbedHostNames[1] ?? '';
  }

  async start(failpoints: Record<number, string[]> = {}): Promise<void> {
    await writeFile(this.keyPath, this.key.privateKey, { mode: 0o600 });
    // As enrollment does: the cloud's migration key is trusted by every host.
    for (const h of HOSTS) {
      await writeFile(authorizedKeys(h), `${await readFile(authorizedKeys(h), 'utf8')}${this.key.publicKey}\n`);
    }
    this.stack = await TestStack.start({
      agent: false,
      testbedHosts: HOSTS,
      testbedVms: true,
      testbedFailpoints: failpoints,
      env: { BERTH_MIGRATION_KEY: this.keyPath, BERTH_HOST_CACHE_MS: '50' },
    });
    for (const [path, body] of [
      ['/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 128, diskGb: 1 }],
      ['/v1/images', { name: 'busybox', kind: 'container', ref: tb.image }],
      [
        '/v1/images',
        {
          name: 'test-vm',
          kind: 'vm',
          ref: join(env.vmImageDir, 'disk.qcow2'),
          kernelRef: join(env.vmImageDir, 'vmlinuz'),
          initrdRef: join(env.vmImageDir, 'initrd.img'),
        },
      ],
      ['/v1/networks', { name: 'vlan100', vlan: 100, cidr: `${net}.0/24`, gateway: `${net}.1` }],
    ] as const) {
      expect((await this.stack.call('POST', path, body)).status).toBe(201);
    }
    await onlyTestbedHosts(this.stack, 1);
    this.vm = await this.stack.createInstance({ name: 'vm-mover', kind: 'vm', image: 'test-vm', network: 'vlan100' });
    expect(this.vm).toMatchObject({ status: 'ACTIVE', host: this.source });
    await onlyTestbedHosts(this.stack, 2);
    this.peer = await this.stack.createInstance({ name: 'peer', network: 'vlan100' });
    await onlyTestbedHosts(this.stack, ...HOSTS);
    expect(await this.guestReady(1)).toContain(`berth-test-vm: eth0 ${this.vm.ip}/24`);
    const wrote = await guestExec(this.socket(1), `echo ${this.payload} > /data/file && sync`);
    expect(wrote.code).toBe(0);
  }

  async stop(): Promise<void> {
    await this.stack?.stop();
    for (const h of HOSTS) {
      const now = await readFile(authorizedKeys(h), 'utf8').catch(() => '');
      await writeFile(
        authorizedKeys(h),
        now
          .split('\n')
          .filter((l) => l && l !== this.key.publicKey.trim())
          .map((l) => `${l}\n`)
          .join(''),
      );
    }
    await runCommand(['rm', '-f', this.keyPath]);
  }

  /** The VM's own files on testbed host `host`. */
  files(host: number): string {
    return join(this.dir(host), this.vm.id);
  }

  socket(host: number): string {
    return join(this.files(host), 'console.sock');
  }

  consoleOf(host: number): Promise<string> {
    return readFile(join(this.files(host), 'console.log'), 'utf8').catch(() => '');
  }

  /** Waits until a boot that began after `after` characters of the console log says it is ready. */
  guestReady(host: number, after = 0): Promise<string> {
    return this.stack.until(
      'the guest to be ready',
      async () => {
        return readyBoot(await this.consoleOf(host), after);
      },
      90_000,
    );
  }

  async act(body: Record<string, unknown>): Promise<any> {
    const res = await this.stack.call('POST', `/v1/instances/${this.vm.id}/actions`, body);
    expect(res.status).toBe(202);
    const op = await this.stack.operation(res.body.operationId, 180_000);
    // A failed move names its step and why, so that a failure in CI can be read from its log.
    if (op.status !== 'succeeded') console.error(`${String(body.action)}: ${JSON.stringify(op, null, 1)}`);
    return op;
  }
}

describe('cold migration of a VM between two hosts (real libvirtd, QEMU, OVS; the disk over SSH)', () => {
  const p = new VmPair();
  beforeAll(() => p.start());
  afterAll(() => p.stop());

  let volume = '';
  const volumeFile = (host: number) => join(p.stack.testbedVolumesDir(host), `${volume}.raw`);
  const sha256 = async (file: string) => (await runCommand(['sha256sum', file])).split(' ')[0];

  it('moves: the disk copied over SSH and checked, the guest up on the target with its address and its file', async () => {
    // With a volume plugged in: it goes along, its file copied and checked like the disk.
    const made = await p.stack.call('POST', '/v1/volumes', { name: 'vm-moving', sizeGb: 1, localTo: p.vm.id });
    volume = made.body.id;
    expect((await p.stack.operation(made.body.operationId)).status).toBe('succeeded');
    expect(await p.act({ action: 'attach', volume })).toMatchObject({ status: 'succeeded' });
    const op = await p.act({ action: 'migrate', host: p.target });
    expect(op).toMatchObject({ status: 'succeeded' });
    const names = op.steps.map((s: any) => s.name);
    for (const step of ['schedule', 'stop', 'export', 'copy', 'disk', 'define', 'start', 'network', 'limits']) {
      expect(names).toContain(step);
    }
    expect(op.steps.find((s: any) => s.name === 'copy').detail).toMatch(/^copied .* MB, sha256 verified$/);

    const moved = (await p.stack.call('GET', `/v1/instances/${p.vm.id}`)).body;
    expect(moved).toMatchObject({ status: 'VERIFY_MIGRATION', host: p.target, ip: p.vm.ip, mac: p.vm.mac });
    const [record] = (await p.stack.call('GET', `/v1/instances/${p.vm.id}/migrations`)).body.items;
    expect(record.snapshotRef).toMatch(
      new RegExp(
        `^sftp://${tb.address(1).replace(/\./g, '\\.')}:22${p.files(1)}/disk\\.qcow2#sha256=[0-9a-f]{64}&bytes=\\d+$`,
      ),
    );
    expect(await virsh(2, 'domblklist', domainName(p.vm.id))).toContain(join(p.files(2), 'disk.qcow2'));
    expect(await virsh(2, 'domblklist', domainName(p.vm.id))).toContain(volumeFile(2));
    expect(await sha256(volumeFile(2))).toBe(await sha256(volumeFile(1)));
    // The source keeps its files (for a revert) until the move is confirmed.
    expect(await exists(join(p.files(1), 'disk.qcow2'))).toBe(true);

    expect(await p.guestReady(2)).toContain(`berth-test-vm: eth0 ${p.vm.ip}/24`);
    expect(await guestExec(p.socket(2), 'cat /data/file')).toEqual({
      code: 0,
      output: p.payload,
    });
    expect(
      await p.stack.until('TCP to the moved VM', () => tcpFrom(p.peer.id, p.vm.ip, 8080, dockerSocketOf(2)), 30_000),
    ).toBe('hello-from-vm');
  });

  it('after confirm, the source holds nothing of it', async () => {
    expect(await p.act({ action: 'confirm' })).toMatchObject({ status: 'succeeded' });
    expect((await p.stack.call('GET', `/v1/instances/${p.vm.id}`)).body).toMatchObject({
      status: 'ACTIVE',
      host: p.target,
    });
    expect(await exists(p.files(1))).toBe(false);
    await expect(virsh(1, 'dominfo', domainName(p.vm.id))).rejects.toThrow(/failed to get domain|Domain not found/);
    expect(await exists(volumeFile(1))).toBe(false);
    expect((await p.stack.call('GET', `/v1/volumes/${volume}`)).body).toMatchObject({
      status: 'in-use',
      host: p.target,
    });
  });

  it('moves back and, reverted, runs again where it was with its file, the other side clean', async () => {
    expect(await p.act({ action: 'migrate', host: p.source })).toMatchObject({ status: 'succeeded' });
    const before = (await p.consoleOf(2)).length;
    expect(await p.act({ action: 'revert' })).toMatchObject({ status: 'succeeded' });
    const back = (await p.stack.call('GET', `/v1/instances/${p.vm.id}`)).body;
    expect(back).toMatchObject({ status: 'ACTIVE', powerState: 'RUNNING', host: p.target, ip: p.vm.ip });
    expect(await exists(p.files(1))).toBe(false);
    expect(await virsh(2, 'domblklist', domainName(p.vm.id))).toContain(join(p.files(2), 'disk.qcow2'));
    const boot = await p.guestReady(2, before);
    expect(boot).toContain(`berth-test-vm: eth0 ${p.vm.ip}/24`);
    expect(await guestExec(p.socket(2), 'cat /data/file')).toEqual({
      code: 0,
      output: p.payload,
    });
  });
});

// A fault at each VM step, one at a time, on the host that runs it: the move undoes itself.
describe.each([
  ['export', { 1: ['libvirt.export'] }],
  ['copy', { 2: ['libvirt.fetch'] }],
  ['start', { 2: ['libvirt.start'] }],
] as Array<[string, Record<number, string[]>]>)('a VM migration whose %s fails', (step, failpoints) => {
  const p = new VmPair();
  beforeAll(() => p.start(failpoints));
  afterAll(() => p.stop());

  it('reverts: the VM runs on the source again with its address and its file, the target holds nothing', async () => {
    const before = (await p.consoleOf(1)).length;
    const usage = async () =>
      (await p.stack.call('GET', '/v1/hosts')).body.items.find((h: any) => h.name === p.target).usage;
    const targetBefore = await usage();
    const op = await p.act({ action: 'migrate', host: p.target });
    expect(op).toMatchObject({ status: 'failed', fault: { step } });
    expect(op.fault.message).toContain('injected failure at libvirt.');
    const back = (await p.stack.call('GET', `/v1/instances/${p.vm.id}`)).body;
    expect(back).toMatchObject({ status: 'ACTIVE', powerState: 'RUNNING', host: p.source, ip: p.vm.ip });
    const [record] = (await p.stack.call('GET', `/v1/instances/${p.vm.id}/migrations`)).body.items;
    expect(record).toMatchObject({ status: 'error', failedStep: step });

    expect(await virsh(1, 'domblklist', domainName(p.vm.id))).toContain(join(p.files(1), 'disk.qcow2'));
    expect(await exists(p.files(2))).toBe(false);
    await expect(virsh(2, 'dominfo', domainName(p.vm.id))).rejects.toThrow(/failed to get domain|Domain not found/);
    expect(await p.guestReady(1, before)).toContain(`berth-test-vm: eth0 ${p.vm.ip}/24`);
    expect(await guestExec(p.socket(1), 'cat /data/file')).toEqual({ code: 0, output: p.payload });
    // The target's claim is gone: it holds what it held before (the peer container).
    expect(await usage()).toEqual(targetBefore);
  });
});
