import { DockerDriver, installAuthorizedKeys, noSteps } from '@berth/drivers';
import { describeDriverContract, sampleLimits, sampleSpec } from '@berth/drivers/testing';
import { hostNet, hostVethName, linkExists, listPorts, peerVethName, portRateLeftovers } from '@berth/network';
import { Failpoints, runCommand } from '@berth/platform';
import { randomBytes, randomUUID } from 'node:crypto';
import { totalmem } from 'node:os';
import Docker from 'dockerode';
import { extract } from 'tar-stream';
import { testEnv } from './support/test-env';

const env = testEnv();
const docker = new Docker({ socketPath: env.dockerSocket });
const hostName = `contract-${randomBytes(3).toString('hex')}`;
let nextIp = 10;

const spec = (id: string) =>
  sampleSpec({
    id,
    name: 'contract',
    imageRef: env.image,
    limits: sampleLimits({ cpuQuota: 50, diskWriteBps: 50 * 1024 * 1024, netIngressMbps: 500, netEgressMbps: 500 }),
    port: {
      mac: `02:be:00:00:01:${(nextIp % 256).toString(16).padStart(2, '0')}`,
      ip: `10.250.0.${nextIp++}`,
      gateway: '10.250.0.1',
      vlan: 3900,
    },
  });

const driverWith = (failpoints: Failpoints) =>
  new DockerDriver({
    docker,
    net: hostNet({ bridge: env.bridge, failpoints }),
    hostName,
    stopTimeoutSec: 5,
    sharedCpus: env.sharedCpus,
    lxcfsRoot: env.lxcfsPath,
  });

const net = hostNet({ bridge: env.bridge });

describeDriverContract('docker', {
  driver: () => driverWith(new Failpoints()),
  spec,
  failingDriver: () => driverWith(new Failpoints(['network.address'])),
  failingStep: 'network',
  limitsFailingDriver: () => driverWith(new Failpoints(['docker.set-limits'])),
  leftovers: async (s) => {
    const found: string[] = [];
    const containers = await docker.listContainers({ all: true, filters: { label: [`berth.instance=${s.id}`] } });
    found.push(...containers.map((c) => `container ${c.Id.slice(0, 12)}`));
    for (const ifname of [hostVethName(s.port.id), peerVethName(s.port.id)]) {
      if (await linkExists(net, ifname)) found.push(`link ${ifname}`);
    }
    if ((await listPorts(net)).includes(hostVethName(s.port.id))) found.push(`ovs port ${hostVethName(s.port.id)}`);
    found.push(...(await portRateLeftovers(net, s.port.id)));
    return found;
  },
});

describe('docker driver on a host without lxcfs', () => {
  const driver = new DockerDriver({
    docker,
    net: hostNet({ bridge: env.bridge }),
    hostName,
    stopTimeoutSec: 5,
    sharedCpus: env.sharedCpus,
    lxcfsRoot: '/nonexistent/lxcfs',
  });
  const s = spec(randomUUID());
  beforeAll(() => driver.init());
  afterAll(() => driver.destroy(s, noSteps));

  it("degrades to the host's /proc: the instance runs with every other limit applied", async () => {
    const applied = await driver.spawn(s, noSteps);
    expect(applied).toMatchObject({ procView: 'host', ramMb: s.limits.ramMb, cpus: 0.5 });
    const meminfo = await runCommand(['/usr/bin/docker', 'exec', `berth-${s.id}`, 'cat', '/proc/meminfo']);
    const total = Number(/^MemTotal:\s+(\d+) kB$/m.exec(meminfo)?.[1]);
    expect(total).toBe(Math.floor(totalmem() / 1024));
  });
});

describe("root's authorized keys in a container made from an image", () => {
  const made: Docker.Container[] = [];
  const fresh = async () => {
    const c = await docker.createContainer({ Image: env.image, Cmd: ['true'], HostConfig: { NetworkMode: 'none' } });
    made.push(c);
    return c;
  };
  /** What the container's filesystem holds under `path`, read as Docker archives it (uid as the container sees it). */
  const archived = async (c: Docker.Container, path: string) => {
    const found: Array<{ name: string; mode: number; uid: number; text: string }> = [];
    const entries = extract();
    (await c.getArchive({ path })).pipe(entries);
    for await (const entry of entries) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk);
      const { name, mode, uid } = entry.header;
      // Docker names the owner as the host sees it: the container's root is the remapped uid where root is remapped.
      found.push({ name, mode: (mode ?? 0) & 0o7777, uid: uid ?? -1, text: Buffer.concat(chunks).toString('utf8') });
    }
    return found;
  };
  afterAll(async () => {
    for (const c of made) await c.remove({ force: true });
  });

  it('keeps the lines a file had, adds each key once, 0600 in a 0700 directory owned by root', async () => {
    const c = await fresh();
    // The image's /root belongs to the container's root: the uid that owner has on this host.
    const root = (await archived(c, '/root'))[0]?.uid;
    const earlier = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDearlier operator@builder';
    const keys = ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOne', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITwo'];
    await installAuthorizedKeys(c, [earlier]);
    await installAuthorizedKeys(c, keys);
    await installAuthorizedKeys(c, [keys[1] ?? '']);
    expect(await archived(c, '/root/.ssh')).toEqual([
      { name: '.ssh/', mode: 0o700, uid: root, text: '' },
      { name: '.ssh/authorized_keys', mode: 0o600, uid: root, text: `${[earlier, ...keys].join('\n')}\n` },
    ]);
  });

  it('adds nothing when the instance has no key', async () => {
    const c = await fresh();
    await installAuthorizedKeys(c, []);
    await expect(c.getArchive({ path: '/root/.ssh' })).rejects.toMatchObject({ statusCode: 404 });
  });
});
