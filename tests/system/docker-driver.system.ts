import { DockerDriver, noSteps } from '@berth/drivers';
import { describeDriverContract, sampleLimits, sampleSpec } from '@berth/drivers/testing';
import { hostNet, hostVethName, linkExists, listPorts, peerVethName, portRateLeftovers } from '@berth/network';
import { Failpoints, runCommand } from '@berth/platform';
import { randomBytes, randomUUID } from 'node:crypto';
import { totalmem } from 'node:os';
import Docker from 'dockerode';
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
