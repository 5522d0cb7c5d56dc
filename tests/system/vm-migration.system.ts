import { domainName } from '@berth/drivers';
import { runCommand } from '@berth/platform';
import { randomBytes, randomInt } from 'node:crypto';
import { access, mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { guestExec, tcpFrom } from './support/probes';
import { TestStack } from './support/stack';
import { testEnv } from './support/test-env';

// Cold migration of a VM: shut down on the source, its overlay disk copied to the target over SSH
// (ssh2 SFTP) and checked against its SHA-256, defined and started there with the same port.
//
// This machine runs one libvirtd, so both hosts here are agents on it, each with its own instance
// directory and image cache; the source's files are served by testbed host 1's sshd (the hosts of
// one machine share its files), which is where the source says it is. The domain is undefined on
// the source when its disk is exported, so the target defines the same name, as it would on its own
// libvirtd.

const env = testEnv();
const tb = env.testbed;
const net = `10.${randomInt(100, 200)}.${randomInt(0, 255)}`;
const authorizedKeys = '/var/lib/berth-testbed/tb1/ssh/authorized_keys';
const virsh = (...args: string[]) => runCommand(['virsh', '-c', 'qemu:///system', ...args]);
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** Two agents on this machine's libvirtd with a VM on the first (the source), a file written on its disk. */
class VmPair {
  stack!: TestStack;
  vm: any;
  peer: any;
  target = '';
  readonly root = join('/var/lib/berth/test-instances', `vm-mig-${randomBytes(3).toString('hex')}`);
  readonly dirA = join(this.root, 'a');
  readonly dirB = join(this.root, 'b');
  readonly key = utils.generateKeyPairSync('ed25519', { comment: 'berth-test-migration' });
  readonly payload = `payload-${randomBytes(6).toString('hex')}`;

  async start(failpoints: { source?: readonly string[]; target?: readonly string[] } = {}): Promise<void> {
    const keyPath = join(this.root, 'migration_key');
    await mkdir(this.root, { recursive: true });
    await writeFile(keyPath, this.key.private, { mode: 0o600 });
    await writeFile(authorizedKeys, `${await readFile(authorizedKeys, 'utf8')}${this.key.public}\n`);
    this.stack = await TestStack.start({
      ...(failpoints.source ? { failpoints: [...failpoints.source] } : {}),
      env: {
        BERTH_DRIVERS: 'docker,libvirt',
        BERTH_VIRT_TYPE: 'qemu',
        BERTH_INSTANCES_DIR: this.dirA,
        BERTH_IMAGE_CACHE_DIR: join(this.dirA, 'image-cache'),
        BERTH_MIGRATION_KEY: keyPath,
        // Where the source's files are reached over SSH (see above).
        BERTH_HOST_ADDRESS: tb.address(1),
        BERTH_HOST_CACHE_MS: '50',
      },
      extraHosts: [
        {
          name: 'vmb',
          env: {
            BERTH_INSTANCES_DIR: this.dirB,
            BERTH_IMAGE_CACHE_DIR: join(this.dirB, 'image-cache'),
            BERTH_FAILPOINTS: (failpoints.target ?? []).join(','),
          },
        },
      ],
    });
    this.target = this.stack.extraHostNames[0] ?? '';
    for (const [path, body] of [
      ['/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 128, diskGb: 1 }],
      ['/v1/images', { name: 'busybox', kind: 'container', ref: env.image }],
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
    await this.only(this.stack.hostName);
    this.vm = await this.stack.createInstance({ name: 'vm-mover', kind: 'vm', image: 'test-vm', network: 'vlan100' });
    this.peer = await this.stack.createInstance({ name: 'peer', network: 'vlan100' });
    for (const n of [this.stack.hostName, this.target]) {
      await this.stack.call('PATCH', `/v1/hosts/${await this.hostId(n)}`, { enabled: true });
    }
    expect(await this.guestReady(this.dirA)).toContain(`berth-test-vm: eth0 ${this.vm.ip}/24`);
    const wrote = await guestExec(this.socket(this.dirA), `echo ${this.payload} > /data/file && sync`);
    expect(wrote.code).toBe(0);
  }

  async stop(): Promise<void> {
    await this.stack?.stop();
    const now = await readFile(authorizedKeys, 'utf8').catch(() => '');
    await writeFile(
      authorizedKeys,
      now
        .split('\n')
        .filter((l) => l && l !== this.key.public.trim())
        .map((l) => `${l}\n`)
        .join(''),
    );
    await rm(this.root, { recursive: true, force: true });
    await rmdir('/var/lib/berth/test-instances').catch(() => undefined);
  }

  socket(dir: string): string {
    return join(dir, this.vm.id, 'console.sock');
  }

  consoleOf(dir: string): Promise<string> {
    return readFile(join(dir, this.vm.id, 'console.log'), 'utf8').catch(() => '');
  }

  /** Waits until a boot that began after `after` characters of the console log says it is ready. */
  guestReady(dir: string, after = 0): Promise<string> {
    return this.stack.until(
      'the guest to be ready',
      async () => {
        const log = await this.consoleOf(dir);
        const boot = log.lastIndexOf('berth-test-vm: userspace up');
        if (boot < after) return null;
        return boot >= 0 && log.indexOf('berth-test-vm: ready', boot) > 0 ? log.slice(boot) : null;
      },
      90_000,
    );
  }

  async hostId(name: string): Promise<string> {
    return (await this.stack.call('GET', '/v1/hosts')).body.items.find((h: any) => h.name === name).id as string;
  }

  async only(name: string): Promise<void> {
    for (const n of [this.stack.hostName, this.target]) {
      const body = n === name ? { enabled: true } : { enabled: false, disabledReason: 'test placement' };
      expect((await this.stack.call('PATCH', `/v1/hosts/${await this.hostId(n)}`, body)).status).toBe(200);
    }
  }

  async act(body: Record<string, unknown>): Promise<any> {
    const res = await this.stack.call('POST', `/v1/instances/${this.vm.id}/actions`, body);
    expect(res.status).toBe(202);
    return this.stack.operation(res.body.operationId, 180_000);
  }
}

describe('cold migration of a VM between two hosts (real libvirtd, QEMU, OVS; the disk over SSH)', () => {
  const p = new VmPair();
  beforeAll(() => p.start());
  afterAll(() => p.stop());

  it('moves: the disk copied over SSH and checked, the guest up on the target with its address and its file', async () => {
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
        `^sftp://${tb.address(1).replace(/\./g, '\\.')}:22${p.dirA}/${p.vm.id}/disk\\.qcow2#sha256=[0-9a-f]{64}&bytes=\\d+$`,
      ),
    );
    expect(await virsh('domblklist', domainName(p.vm.id))).toContain(join(p.dirB, p.vm.id, 'disk.qcow2'));
    // The source keeps its files (for a revert) until the move is confirmed.
    expect(await exists(join(p.dirA, p.vm.id, 'disk.qcow2'))).toBe(true);

    expect(await p.guestReady(p.dirB)).toContain(`berth-test-vm: eth0 ${p.vm.ip}/24`);
    expect(await guestExec(join(p.dirB, p.vm.id, 'console.sock'), 'cat /data/file')).toEqual({
      code: 0,
      output: p.payload,
    });
    expect(await p.stack.until('TCP to the moved VM', () => tcpFrom(p.peer.id, p.vm.ip, 8080), 30_000)).toBe(
      'hello-from-vm',
    );
  });

  it('after confirm, the source holds nothing of it', async () => {
    expect(await p.act({ action: 'confirm' })).toMatchObject({ status: 'succeeded' });
    expect((await p.stack.call('GET', `/v1/instances/${p.vm.id}`)).body).toMatchObject({
      status: 'ACTIVE',
      host: p.target,
    });
    expect(await exists(join(p.dirA, p.vm.id))).toBe(false);
  });

  it('moves back and, reverted, runs again where it was with its file, the other side clean', async () => {
    expect(await p.act({ action: 'migrate', host: p.stack.hostName })).toMatchObject({ status: 'succeeded' });
    const before = (await p.consoleOf(p.dirB)).length;
    expect(await p.act({ action: 'revert' })).toMatchObject({ status: 'succeeded' });
    const back = (await p.stack.call('GET', `/v1/instances/${p.vm.id}`)).body;
    expect(back).toMatchObject({ status: 'ACTIVE', powerState: 'RUNNING', host: p.target, ip: p.vm.ip });
    expect(await exists(join(p.dirA, p.vm.id))).toBe(false);
    expect(await virsh('domblklist', domainName(p.vm.id))).toContain(join(p.dirB, p.vm.id, 'disk.qcow2'));
    const boot = await p.guestReady(p.dirB, before);
    expect(boot).toContain(`berth-test-vm: eth0 ${p.vm.ip}/24`);
    expect(await guestExec(join(p.dirB, p.vm.id, 'console.sock'), 'cat /data/file')).toEqual({
      code: 0,
      output: p.payload,
    });
  });
});

// A fault at each VM step, one at a time, on the host that runs it: the move undoes itself.
describe.each([
  ['export', { source: ['libvirt.export'] }],
  ['copy', { target: ['libvirt.fetch'] }],
  ['start', { target: ['libvirt.start'] }],
] as const)('a VM migration whose %s fails', (step, failpoints) => {
  const p = new VmPair();
  beforeAll(() => p.start(failpoints));
  afterAll(() => p.stop());

  it('reverts: the VM runs on the source again with its address and its file, the target holds nothing', async () => {
    const before = (await p.consoleOf(p.dirA)).length;
    const op = await p.act({ action: 'migrate', host: p.target });
    expect(op).toMatchObject({ status: 'failed', fault: { step } });
    expect(op.fault.message).toContain('injected failure at libvirt.');
    const back = (await p.stack.call('GET', `/v1/instances/${p.vm.id}`)).body;
    expect(back).toMatchObject({ status: 'ACTIVE', powerState: 'RUNNING', host: p.stack.hostName, ip: p.vm.ip });
    const [record] = (await p.stack.call('GET', `/v1/instances/${p.vm.id}/migrations`)).body.items;
    expect(record).toMatchObject({ status: 'error', failedStep: step });

    expect(await virsh('domblklist', domainName(p.vm.id))).toContain(join(p.dirA, p.vm.id, 'disk.qcow2'));
    expect(await exists(join(p.dirB, p.vm.id))).toBe(false);
    expect(await p.guestReady(p.dirA, before)).toContain(`berth-test-vm: eth0 ${p.vm.ip}/24`);
    expect(await guestExec(p.socket(p.dirA), 'cat /data/file')).toEqual({ code: 0, output: p.payload });
    const hosts = (await p.stack.call('GET', '/v1/hosts')).body.items;
    expect(hosts.find((h: any) => h.name === p.target).usage).toMatchObject({ ramMb: 0, instances: 0 });
  });
});
