import type { InstanceSpec } from '@berth/contracts';
import { LibvirtDriver, domainName, noSteps, tapName } from '@berth/drivers';
import { describeDriverContract, sampleLimits, sampleSpec } from '@berth/drivers/testing';
import { hostNet, listPorts, portRateLeftovers } from '@berth/network';
import { Failpoints, runCommand } from '@berth/platform';
import { randomBytes, randomUUID } from 'node:crypto';
import { access, readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseStringPromise } from 'xml2js';
import { readyBoot } from './support/probes';
import { testEnv } from './support/test-env';

// The libvirt driver held to the same contract as docker and fake, on libvirtd and QEMU (TCG here),
// with Berth's test image. Each spawn defines and starts a real domain; settle waits for the guest.

const env = testEnv();
const hostName = `contract-vm-${randomBytes(3).toString('hex')}`;
const instancesDir = join('/var/lib/berth/test-instances', hostName);
let nextIp = 10;

const spec = (id: string) =>
  sampleSpec({
    id,
    name: 'contract-vm',
    kind: 'vm',
    imageRef: join(env.vmImageDir, 'disk.qcow2'),
    boot: {
      kernelRef: join(env.vmImageDir, 'vmlinuz'),
      initrdRef: join(env.vmImageDir, 'initrd.img'),
      cmdline: 'quiet',
    },
    limits: sampleLimits({ ramMb: 128, cpuQuota: 50 }),
    port: {
      mac: `02:be:00:00:02:${(nextIp % 256).toString(16).padStart(2, '0')}`,
      ip: `10.251.0.${nextIp++}`,
      gateway: '10.251.0.1',
      vlan: 3902,
    },
  });

const driverWith = (failpoints: Failpoints) =>
  new LibvirtDriver({
    net: hostNet({ bridge: env.bridge, failpoints }),
    hostName,
    uri: 'qemu:///system',
    virtType: 'qemu',
    instancesDir,
    imageCacheDir: join(instancesDir, 'image-cache'),
    // A guest still booting ignores ACPI's power button; stop then waits this long before it destroys.
    stopTimeoutSec: 5,
    sharedCpus: env.sharedCpus,
    maxVcpus: 2,
    migrationKeyPath: '/nonexistent/migration_key',
  });

const net = hostNet({ bridge: env.bridge });
const virsh = (...args: string[]) => runCommand(['virsh', '-c', 'qemu:///system', ...args]);

const leftovers = async (s: InstanceSpec): Promise<string[]> => {
  const found: string[] = [];
  if (
    await virsh('dominfo', domainName(s.id)).then(
      () => true,
      () => false,
    )
  )
    found.push(`domain ${domainName(s.id)}`);
  if (
    await access(join(instancesDir, s.id)).then(
      () => true,
      () => false,
    )
  )
    found.push(`directory ${s.id}`);
  if ((await listPorts(net)).includes(tapName(s.port.id))) found.push(`ovs port ${tapName(s.port.id)}`);
  found.push(...(await portRateLeftovers(net, s.port.id)));
  return found;
};

describeDriverContract('libvirt', {
  driver: () => driverWith(new Failpoints()),
  spec,
  failingDriver: () => driverWith(new Failpoints(['libvirt.start'])),
  failingStep: 'start',
  limitsFailingDriver: () => driverWith(new Failpoints(['libvirt.set-limits'])),
  settle: async (s) => {
    const log = join(instancesDir, s.id, 'console.log');
    const end = Date.now() + 90_000;
    for (;;) {
      const text = await readFile(log, 'utf8').catch(() => '');
      if (readyBoot(text) !== null) return;
      if (Date.now() > end) throw new Error(`the guest of ${s.id} never got ready:\n${text.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  },
  leftovers,
});

afterAll(async () => {
  await rm(join(instancesDir, 'image-cache'), { recursive: true, force: true });
  await rmdir(instancesDir).catch(() => undefined);
  await rmdir('/var/lib/berth/test-instances').catch(() => undefined);
});

describe('libvirt driver: what a user string can do to a domain, and a failure at define', () => {
  const driver = driverWith(new Failpoints());
  beforeAll(() => driver.init());

  it('keeps a hostile instance name as literal text in the defined domain', async () => {
    const s = { ...spec(randomUUID()), name: `x</title><devices/>&amp;'"]]>` };
    try {
      await driver.spawn(s, noSteps);
      const xml = await virsh('dumpxml', domainName(s.id));
      const parsed = (await parseStringPromise(xml, { explicitArray: false })) as {
        domain: { title: string; name: string };
      };
      expect(parsed.domain).toMatchObject({ name: domainName(s.id), title: s.name });
    } finally {
      await driver.destroy(s, noSteps);
    }
    expect(await leftovers(s)).toEqual([]);
  });

  it('a spawn that fails at "define" leaves nothing behind', async () => {
    const failing = driverWith(new Failpoints(['libvirt.define']));
    await failing.init();
    const s = spec(randomUUID());
    await expect(failing.spawn(s, noSteps)).rejects.toMatchObject({ name: 'DriverError', step: 'define' });
    expect(await leftovers(s)).toEqual([]);
  });
});
