import {
  buildSeedIso,
  createOverlay,
  DockerDriver,
  domainName,
  domainXml,
  nocloudFiles,
  noSteps,
  tapName,
} from '@berth/drivers';
import { sampleLimits, sampleSpec } from '@berth/drivers/testing';
import { hostNet, listPorts } from '@berth/network';
import { runCommand } from '@berth/platform';
import Docker from 'dockerode';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tcpFrom } from './support/probes';
import { testEnv } from './support/test-env';

// The pieces of the libvirt driver on the real daemons, before the driver itself: a VM built from
// Berth's test image with its own overlay disk and config drive, on a VLAN of the OVS bridge, next
// to containers. Containers and VMs are peers: one VLAN joins them and another keeps them apart.

const env = testEnv();
const virsh = (...args: string[]) => runCommand(['virsh', '-c', 'qemu:///system', ...args], { timeoutMs: 60_000 });
const net = `10.${randomInt(100, 200)}.${randomInt(0, 255)}`;
const hostName = `vmnet-${randomBytes(3).toString('hex')}`;
const image = env.vmImageDir;

describe('a VM and containers on OVS VLANs (real libvirtd, QEMU, dockerd, OVS)', () => {
  const docker = new DockerDriver({
    docker: new Docker({ socketPath: env.dockerSocket }),
    net: hostNet({ bridge: env.bridge }),
    hostName,
    stopTimeoutSec: 5,
    sharedCpus: env.sharedCpus,
    lxcfsRoot: null,
  });
  const vmId = randomUUID();
  const vmPort = sampleSpec({
    port: { mac: '02:be:aa:10:00:10', ip: `${net}.10`, gateway: `${net}.1`, vlan: 100 },
  }).port;
  const dir = join('/var/lib/berth/test-instances', vmId);
  const sameVlan = sampleSpec({
    imageRef: env.image,
    port: { mac: '02:be:aa:10:00:20', ip: `${net}.20`, gateway: `${net}.1`, vlan: 100 },
  });
  const otherVlan = sampleSpec({
    imageRef: env.image,
    port: { mac: '02:be:aa:10:00:21', ip: `${net}.21`, gateway: `${net}.1`, vlan: 200 },
  });

  beforeAll(async () => {
    await docker.init();
    await mkdir(dir, { recursive: true });
    await createOverlay(runCommand, join(image, 'disk.qcow2'), join(dir, 'disk.qcow2'), 1);
    await buildSeedIso(runCommand, join(dir, 'seed.iso'), nocloudFiles(vmId, 'vm-1', vmPort));
    const xml = domainXml({
      instanceId: vmId,
      title: 'vm-1',
      hostName,
      virtType: 'qemu',
      limits: sampleLimits({ ramMb: 128 }),
      maxVcpus: 1,
      sharedCpus: env.sharedCpus,
      disk: { path: join(dir, 'disk.qcow2'), format: 'qcow2' },
      seedPath: join(dir, 'seed.iso'),
      boot: { kernel: join(image, 'vmlinuz'), initrd: join(image, 'initrd.img'), cmdline: 'console=ttyS0 panic=-1' },
      port: vmPort,
      bridge: env.bridge,
      consoleLog: join(dir, 'console.log'),
      consoleSocket: join(dir, 'console.sock'),
    });
    await writeFile(join(dir, 'domain.xml'), xml);
    await virsh('define', join(dir, 'domain.xml'));
    await virsh('start', domainName(vmId));
    await docker.spawn(sameVlan, noSteps);
    await docker.spawn(otherVlan, noSteps);
  });

  afterAll(async () => {
    await virsh('destroy', domainName(vmId)).catch(() => undefined);
    await virsh('undefine', domainName(vmId)).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    await rmdir('/var/lib/berth/test-instances').catch(() => undefined); // only if no other run uses it
    await docker.destroy(sameVlan, noSteps);
    await docker.destroy(otherVlan, noSteps);
  });

  const consoleLog = () => readFile(join(dir, 'console.log'), 'utf8').catch(() => '');
  const until = async <T>(what: string, check: () => Promise<T | null>, ms = 90_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const value = await check();
      if (value !== null) return value;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; console:\n${await consoleLog()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  it('boots, and its console shows the address its config drive gave it', async () => {
    await until('the guest to be ready', async () =>
      (await consoleLog()).includes('berth-test-vm: ready') ? true : null,
    );
    const log = await consoleLog();
    expect(log).toContain(`berth-test-vm: eth0 ${vmPort.ip}/24`);
    expect(log).toContain('berth-test-vm: network from config drive');
    expect(await listPorts(hostNet({ bridge: env.bridge }))).toContain(tapName(vmPort.id));
    expect((await runCommand(['ovs-vsctl', 'get', 'Port', tapName(vmPort.id), 'tag'])).trim()).toBe('100');
  });

  it('is reached over TCP by a container on its VLAN, and not by one on another VLAN', async () => {
    const answer = await until('TCP from the container to the VM', () => tcpFrom(sameVlan.id, vmPort.ip, 8080), 30_000);
    expect(answer).toBe('hello-from-vm');
    expect(await tcpFrom(otherVlan.id, vmPort.ip, 8080)).toBeNull();
  });

  it('powers off on a graceful shutdown, and its tap leaves the bridge', async () => {
    await virsh('shutdown', domainName(vmId));
    await until('the domain to shut off', async () =>
      (await virsh('domstate', domainName(vmId))).trim() === 'shut off' ? true : null,
    );
    expect(await listPorts(hostNet({ bridge: env.bridge }))).not.toContain(tapName(vmPort.id));
  });
});
