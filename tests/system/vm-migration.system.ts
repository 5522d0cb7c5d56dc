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
const root = join('/var/lib/berth/test-instances', `vm-mig-${randomBytes(3).toString('hex')}`);
const dirA = join(root, 'a');
const dirB = join(root, 'b');
const keyPath = join(root, 'migration_key');
const authorizedKeys = '/var/lib/berth-testbed/tb1/ssh/authorized_keys';
const virsh = (...args: string[]) => runCommand(['virsh', '-c', 'qemu:///system', ...args]);
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('cold migration of a VM between two hosts (real libvirtd, QEMU, OVS; the disk over SSH)', () => {
  let stack: TestStack;
  let vm: any;
  let peer: any;
  const key = utils.generateKeyPairSync('ed25519', { comment: 'berth-test-migration' });
  const payload = `payload-${randomBytes(6).toString('hex')}`;
  let target = '';

  const consoleOf = (dir: string, id: string) => readFile(join(dir, id, 'console.log'), 'utf8').catch(() => '');
  /** Waits until a boot that began after `after` characters of the console log says it is ready. */
  const guestReady = (dir: string, id: string, after = 0) =>
    stack.until(
      'the guest to be ready',
      async () => {
        const log = await consoleOf(dir, id);
        const boot = log.lastIndexOf('berth-test-vm: userspace up');
        if (boot < after) return null;
        return boot >= 0 && log.indexOf('berth-test-vm: ready', boot) > 0 ? log.slice(boot) : null;
      },
      90_000,
    );
  const hostId = async (name: string) =>
    (await stack.call('GET', '/v1/hosts')).body.items.find((h: any) => h.name === name).id as string;
  const only = async (name: string) => {
    for (const n of [stack.hostName, target]) {
      const body = n === name ? { enabled: true } : { enabled: false, disabledReason: 'test placement' };
      expect((await stack.call('PATCH', `/v1/hosts/${await hostId(n)}`, body)).status).toBe(200);
    }
  };
  const act = async (body: Record<string, unknown>) => {
    const res = await stack.call('POST', `/v1/instances/${vm.id}/actions`, body);
    expect(res.status).toBe(202);
    return stack.operation(res.body.operationId, 180_000);
  };

  beforeAll(async () => {
    await mkdir(root, { recursive: true });
    await writeFile(keyPath, key.private, { mode: 0o600 });
    await writeFile(authorizedKeys, `${await readFile(authorizedKeys, 'utf8')}${key.public}\n`);
    stack = await TestStack.start({
      env: {
        BERTH_DRIVERS: 'docker,libvirt',
        BERTH_VIRT_TYPE: 'qemu',
        BERTH_INSTANCES_DIR: dirA,
        BERTH_IMAGE_CACHE_DIR: join(dirA, 'image-cache'),
        BERTH_MIGRATION_KEY: keyPath,
        // Where the source's files are reached over SSH (see above).
        BERTH_HOST_ADDRESS: tb.address(1),
        BERTH_HOST_CACHE_MS: '50',
      },
      extraHosts: [
        { name: 'vmb', env: { BERTH_INSTANCES_DIR: dirB, BERTH_IMAGE_CACHE_DIR: join(dirB, 'image-cache') } },
      ],
    });
    target = stack.extraHostNames[0] ?? '';
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
      expect((await stack.call('POST', path, body)).status).toBe(201);
    }
    await only(stack.hostName);
    vm = await stack.createInstance({ name: 'vm-mover', kind: 'vm', image: 'test-vm', network: 'vlan100' });
    peer = await stack.createInstance({ name: 'peer', network: 'vlan100' });
    await only('');
    for (const n of [stack.hostName, target]) {
      await stack.call('PATCH', `/v1/hosts/${await hostId(n)}`, { enabled: true });
    }
    expect(await guestReady(dirA, vm.id)).toContain(`berth-test-vm: eth0 ${vm.ip}/24`);
    const wrote = await guestExec(join(dirA, vm.id, 'console.sock'), `echo ${payload} > /data/file && sync`);
    expect(wrote.code).toBe(0);
  });

  afterAll(async () => {
    await stack?.stop();
    const now = await readFile(authorizedKeys, 'utf8').catch(() => '');
    await writeFile(
      authorizedKeys,
      now
        .split('\n')
        .filter((l) => l && l !== key.public.trim())
        .map((l) => `${l}\n`)
        .join(''),
    );
    await rm(root, { recursive: true, force: true });
    await rmdir('/var/lib/berth/test-instances').catch(() => undefined);
  });

  it('moves: the disk copied over SSH and checked, the guest up on the target with its address and its file', async () => {
    const op = await act({ action: 'migrate', host: target });
    expect(op).toMatchObject({ status: 'succeeded' });
    const names = op.steps.map((s: any) => s.name);
    for (const step of ['schedule', 'stop', 'export', 'copy', 'disk', 'define', 'start', 'network', 'limits']) {
      expect(names).toContain(step);
    }
    expect(op.steps.find((s: any) => s.name === 'copy').detail).toMatch(/^copied .* MB, sha256 verified$/);

    const moved = (await stack.call('GET', `/v1/instances/${vm.id}`)).body;
    expect(moved).toMatchObject({ status: 'VERIFY_MIGRATION', host: target, ip: vm.ip, mac: vm.mac });
    const [record] = (await stack.call('GET', `/v1/instances/${vm.id}/migrations`)).body.items;
    expect(record.snapshotRef).toMatch(
      new RegExp(
        `^sftp://${tb.address(1).replace(/\./g, '\\.')}:22${dirA}/${vm.id}/disk\\.qcow2#sha256=[0-9a-f]{64}&bytes=\\d+$`,
      ),
    );
    expect(await virsh('domblklist', domainName(vm.id))).toContain(join(dirB, vm.id, 'disk.qcow2'));
    // The source keeps its files (for a revert) until the move is confirmed.
    expect(await exists(join(dirA, vm.id, 'disk.qcow2'))).toBe(true);

    expect(await guestReady(dirB, vm.id)).toContain(`berth-test-vm: eth0 ${vm.ip}/24`);
    expect(await guestExec(join(dirB, vm.id, 'console.sock'), 'cat /data/file')).toEqual({ code: 0, output: payload });
    expect(await stack.until('TCP to the moved VM', () => tcpFrom(peer.id, vm.ip, 8080), 30_000)).toBe('hello-from-vm');
  });

  it('after confirm, the source holds nothing of it', async () => {
    expect(await act({ action: 'confirm' })).toMatchObject({ status: 'succeeded' });
    expect((await stack.call('GET', `/v1/instances/${vm.id}`)).body).toMatchObject({ status: 'ACTIVE', host: target });
    expect(await exists(join(dirA, vm.id))).toBe(false);
  });

  it('moves back and, reverted, runs again where it was with its file, the other side clean', async () => {
    expect(await act({ action: 'migrate', host: stack.hostName })).toMatchObject({ status: 'succeeded' });
    const before = (await consoleOf(dirB, vm.id)).length;
    expect(await act({ action: 'revert' })).toMatchObject({ status: 'succeeded' });
    const back = (await stack.call('GET', `/v1/instances/${vm.id}`)).body;
    expect(back).toMatchObject({ status: 'ACTIVE', powerState: 'RUNNING', host: target, ip: vm.ip });
    expect(await exists(join(dirA, vm.id))).toBe(false);
    expect(await virsh('domblklist', domainName(vm.id))).toContain(join(dirB, vm.id, 'disk.qcow2'));
    const boot = await guestReady(dirB, vm.id, before);
    expect(boot).toContain(`berth-test-vm: eth0 ${vm.ip}/24`);
    expect(await guestExec(join(dirB, vm.id, 'console.sock'), 'cat /data/file')).toEqual({ code: 0, output: payload });
  });
});
