import { runCommand } from '@berth/platform';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { adminAuth, openstack as runOpenstack, openstackEnv, run } from './support/openstack-client';
import { TestStack } from './support/stack';
import { vmHost } from './support/vm-host';
import { testEnv } from './support/test-env';

const repo = resolve(__dirname, '../..');
const env = testEnv();
const vms = vmHost('openstack');

/** The README's OpenStack walk-through: the sh block under "An OpenStack walk-through". */
async function walkThrough(): Promise<string> {
  const readme = await readFile(join(repo, 'README.md'), 'utf8');
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## An OpenStack walk-through')))?.[1];
  if (!block) throw new Error('README has no OpenStack walk-through block');
  return block;
}

/**
 * Debian's real, unmodified `openstack` client (python3-openstackclient 6.0.0) against a running stack: the README's
 * walk-through as written, then what the client prints checked against Berth's own API.
 */
describe('the openstack client against the running stack', () => {
  let stack: TestStack;
  let dir: string;
  /** The client's settings for this stack, with `auth`: bob's password in shop, or the cloud admin's token. */
  const clientEnv = (auth: Record<string, string>) => openstackEnv(stack, dir, auth);
  const osEnv = () =>
    clientEnv({
      OS_USERNAME: 'bob',
      OS_PASSWORD: 'a long password for bob',
      OS_PROJECT_NAME: 'shop',
      OS_USER_DOMAIN_NAME: 'Default',
    });
  const openstack = (...args: string[]) => runOpenstack(osEnv(), ...args);
  const asAdmin = (...args: string[]) => runOpenstack(clientEnv(adminAuth(stack)), ...args);
  const json = async (...args: string[]): Promise<any> => JSON.parse(await openstack(...args, '-f', 'json'));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-openstack-'));
    // A host with both drivers, as deploy/up.sh runs it (VM disks where QEMU's user may read them).
    stack = await TestStack.start({
      env: vms.env,
    });
    // What deploy/up.sh seeds, so that the walk-through finds the same catalogue.
    const vm = (file: string) => join(env.vmImageDir, file);
    for (const [path, body] of [
      ['/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 256, diskGb: 1 }],
      ['/v1/flavors', { name: 'm1.small', vcpus: 1, ramMb: 1024, diskGb: 10 }],
      ['/v1/images', { name: 'busybox', kind: 'container', ref: env.image }],
      [
        '/v1/images',
        { name: 'test-vm', kind: 'vm', ref: vm('disk.qcow2'), kernelRef: vm('vmlinuz'), initrdRef: vm('initrd.img') },
      ],
    ] as const) {
      expect((await stack.call('POST', path, body)).status).toBe(201);
    }
  });
  afterAll(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    await vms.remove();
  });

  it('runs the README walk-through as written, each command succeeding', async () => {
    // A directory like a checkout after up.sh: .berth/env for this stack, bin/ with the berth CLI.
    await mkdir(join(dir, '.berth'));
    await writeFile(join(dir, '.berth/env'), `export BERTH_URL=${stack.url}\nexport BERTH_TOKEN=${stack.token}\n`);
    await symlink(join(repo, 'bin'), join(dir, 'bin'));
    const res = await run('bash', ['-c', `set -euo pipefail\n${await walkThrough()}`], {
      cwd: dir,
      env: { PATH: process.env['PATH'], BERTH_CONFIG: '/nonexistent/berth.yaml', HOME: dir },
    });
    expect({ code: res.code, err: res.code === 0 ? '' : res.err }).toEqual({ code: 0, err: '' });
    // It created web-1 in shop (its address on vlan100) and deleted it: the API knows it no more.
    expect(res.out).toMatch(/vlan100=10\.100\.0\.\d+/);
    const left = (await stack.call('GET', '/v1/instances?limit=500')).body.items as Array<{ name: string }>;
    expect(left.map((i) => i.name)).not.toContain('web-1');
    // The VM's root was given bob-key's public key, as its console said; the private key was answered once.
    const publicKey = (await openstack('keypair', 'show', '--public-key', 'bob-key')).trim();
    expect(publicKey).toMatch(/^ssh-ed25519 [A-Za-z0-9+/]+=*$/);
    expect(res.out).toContain(`berth-test-vm: authorized key: ${publicKey}\n`);
    const pem = await readFile(join(dir, 'bob-key.pem'), 'utf8');
    expect(pem).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\n-----END OPENSSH PRIVATE KEY-----\n*$/);
    const derived = await run('ssh-keygen', ['-y', '-f', join(dir, 'bob-key.pem')]);
    expect(derived.out.trim().split(' ').slice(0, 2).join(' ')).toBe(publicKey);
    // The resize applied, was confirmed, and web-1 ran the new flavor (the client's `--wait` exits 0 even on error).
    const small = ((await stack.call('GET', '/v1/flavors')).body.items as any[]).find((f) => f.name === 'm1.small');
    expect(res.out).toContain(`m1.small (${small.id})\nACTIVE\n`);
    // web-1's snapshot became an active private image of shop (made, shown, deleted as the walk-through asked).
    expect(res.out).toContain('active\nprivate\n');
    const ops = (await stack.call('GET', '/v1/operations?limit=500')).body.items as Array<{
      action: string;
      status: string;
    }>;
    for (const action of [
      'instance.create',
      'instance.stop',
      'instance.start',
      'instance.reboot',
      'instance.resize',
      'instance.confirm',
      'instance.snapshot',
      'image.delete',
      'instance.delete',
    ]) {
      expect(ops.filter((o) => o.action === action).map((o) => [action, o.status])).toContainEqual([
        action,
        'succeeded',
      ]);
    }
  }, 600_000);

  it("prints what Berth's own API says: flavors, images, networks, a server and the project's limits", async () => {
    const flavors = (await json('flavor', 'list')) as Array<{ ID: string; Name: string; RAM: number; VCPUs: number }>;
    const berthFlavors = (await stack.call('GET', '/v1/flavors')).body.items as any[];
    expect(flavors.map((f) => [f.ID, f.Name, f.RAM, f.VCPUs]).sort()).toEqual(
      berthFlavors.map((f) => [f.id, f.name, f.ramMb, f.vcpus]).sort(),
    );
    const images = (await json('image', 'list')) as Array<{ ID: string; Name: string }>;
    const berthImages = (await stack.call('GET', '/v1/images')).body.items as any[];
    expect(images.map((i) => i.ID).sort()).toEqual(berthImages.map((i) => i.id).sort());
    const networks = (await json('network', 'list')) as Array<{ ID: string; Name: string }>;
    expect(networks.map((n) => n.Name)).toEqual(['vlan100']);

    // The cloud admin registers an image by reference and makes a provider network, then its subnet, as Neutron
    // orders them (the client's stdin is no terminal: it uploads nothing, which Berth accepts).
    await asAdmin(
      ...['image', 'create', '--container-format', 'docker', '--disk-format', 'raw', '--public'],
      ...['--property', `berth_ref=${env.image}`, 'busybox-2'],
    );
    await asAdmin('network', 'create', '--provider-network-type', 'vlan', '--provider-segment', '101', 'net101');
    const subnet = JSON.parse(
      await asAdmin(
        ...['subnet', 'create', '--network', 'net101', '--subnet-range', '10.101.0.0/24', '--no-dhcp'],
        ...['--allocation-pool', 'start=10.101.0.20,end=10.101.0.29', 'sub101', '-f', 'json'],
      ),
    );
    expect(subnet).toMatchObject({ name: 'sub101', cidr: '10.101.0.0/24', gateway_ip: '10.101.0.1' });
    expect((await stack.call('GET', '/v1/networks')).body.items).toContainEqual(
      expect.objectContaining({ name: 'net101', vlan: 101, cidr: '10.101.0.0/24', ipsTotal: 10 }),
    );

    // A key pair imported from the user's own public key, then a container with it, from that image on that network.
    expect(
      (await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bob@laptop', '-f', join(dir, 'id')])).code,
    ).toBe(0);
    const imported = await json('keypair', 'create', '--public-key', join(dir, 'id.pub'), 'laptop');
    const fingerprint = await run('ssh-keygen', ['-l', '-E', 'md5', '-f', join(dir, 'id.pub')]);
    expect(`MD5:${imported.fingerprint}`).toBe(fingerprint.out.split(' ')[1]);
    const created = await json(
      ...['server', 'create', '--flavor', 'm1.tiny', '--image', 'busybox-2', '--network', 'net101'],
      ...['--key-name', 'laptop', '--wait', 'web-2'],
    );
    const berth = (await stack.call('GET', `/v1/instances/${created.id}`)).body;
    expect(berth).toMatchObject({ name: 'web-2', status: 'ACTIVE', kind: 'container', keyName: 'laptop' });
    expect(berth.ip).toMatch(/^10\.101\.0\.2\d$/);
    // Root's authorized_keys in the container holds the key (without its comment), 0600 in a 0700 directory.
    const inside = (...argv: string[]) => runCommand(['/usr/bin/docker', 'exec', `berth-${created.id}`, ...argv]);
    const ownKey = (await readFile(join(dir, 'id.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
    expect(await inside('cat', '/root/.ssh/authorized_keys')).toBe(`${ownKey}\n`);
    expect(await inside('stat', '-c', '%a %u', '/root/.ssh', '/root/.ssh/authorized_keys')).toBe('700 0\n600 0\n');
    const shown = await json('server', 'show', 'web-2');
    expect(shown).toMatchObject({
      id: berth.id,
      status: 'ACTIVE',
      addresses: { net101: [berth.ip] },
      hostId: berth.hostId,
      'OS-EXT-STS:power_state': 1,
    });
    const limits = (await json('limits', 'show', '--absolute')) as Array<{ Name: string; Value: number }>;
    const shop = ((await stack.call('GET', '/v1/projects')).body.items as any[]).find((p) => p.name === 'shop');
    const quota = (await stack.call('GET', `/v1/projects/${shop.id}/quotas`)).body;
    expect(limits.find((l) => l.Name === 'totalInstancesUsed')?.Value).toBe(quota.instances.used);
    expect(limits.find((l) => l.Name === 'maxTotalInstances')?.Value).toBe(quota.instances.limit);
    // An application credential of bob's: the client logs in with it alone (by id), and its deletion ends that.
    const credential = await json('application', 'credential', 'create', 'ci');
    expect(credential).toMatchObject({ name: 'ci', project_id: shop.id, roles: 'member', unrestricted: false });
    const withCredential = (...args: string[]) =>
      run('openstack', args, {
        env: clientEnv({
          OS_AUTH_TYPE: 'v3applicationcredential',
          OS_APPLICATION_CREDENTIAL_ID: credential.id,
          OS_APPLICATION_CREDENTIAL_SECRET: credential.secret,
        }),
      });
    const listed = await withCredential('server', 'list', '-f', 'json');
    expect(JSON.parse(listed.out).map((x: { Name: string }) => x.Name)).toEqual(['web-2']);
    await openstack('application', 'credential', 'delete', 'ci');
    expect((await withCredential('server', 'list')).err).toMatch(/\(HTTP 401\)/);

    await openstack('server', 'delete', '--wait', 'web-2');
    expect((await stack.call('GET', `/v1/instances/${created.id}`)).status).toBe(404);
    await asAdmin('subnet', 'delete', 'sub101');
    await asAdmin('network', 'delete', 'net101');
    await asAdmin('image', 'delete', 'busybox-2');
    const left = (await stack.call('GET', '/v1/networks')).body.items as Array<{ name: string }>;
    expect(left.map((n) => n.name)).toEqual(['vlan100']);
  }, 600_000);
});
