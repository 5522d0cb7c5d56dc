import type { InstanceSpec, VolumeAttachment } from '@berth/contracts';
import { DockerDriver, FileVolumes, LibvirtDriver, noSteps } from '@berth/drivers';
import { sampleLimits, sampleSpec } from '@berth/drivers/testing';
import { hostNet } from '@berth/network';
import { Failpoints, runCommand } from '@berth/platform';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import { readyBoot } from './support/probes';
import { testEnv } from './support/test-env';

// A failure at each step of attaching, detaching and snapshotting, injected with the drivers' failpoints on the real
// host: the volume ends attached or not, never half (no loop device, mount or disk left over), its data intact, and
// a failed snapshot leaves no image behind and the instance running.

const env = testEnv();
const docker = new Docker({ socketPath: env.dockerSocket });
const hostName = `faults-${randomBytes(3).toString('hex')}`;
const root = `/var/lib/berth/test-volumes/${hostName}`;
const instancesDir = join('/var/lib/berth/test-instances', hostName);
const pool = new FileVolumes(root, runCommand);
const fileOf = (a: VolumeAttachment) => pool.source(a.volume.id).file;
const DOCKER = '/usr/bin/docker';
const virsh = (...args: string[]) => runCommand(['virsh', '-c', 'qemu:///system', ...args]);

const dockerWith = (points: string[] = []) =>
  new DockerDriver({
    docker,
    net: hostNet({ bridge: env.bridge, failpoints: new Failpoints(points) }),
    hostName,
    stopTimeoutSec: 5,
    sharedCpus: env.sharedCpus,
    lxcfsRoot: env.lxcfsPath,
    volumes: { mountRoot: join(root, 'mounts'), fileOf },
  });
const libvirtWith = (points: string[] = []) =>
  new LibvirtDriver({
    net: hostNet({ bridge: env.bridge, failpoints: new Failpoints(points) }),
    hostName,
    uri: 'qemu:///system',
    virtType: 'qemu',
    instancesDir,
    imageCacheDir: join(instancesDir, 'image-cache'),
    stopTimeoutSec: 5,
    sharedCpus: env.sharedCpus,
    maxVcpus: 2,
    migrationKeyPath: '/nonexistent/migration_key',
    volumes: { fileOf },
  });

const port = (n: number) => ({
  mac: `02:be:00:00:07:${n.toString(16).padStart(2, '0')}`,
  ip: `10.252.0.${n}`,
  gateway: '10.252.0.1',
  vlan: 3905,
});
const noLimits = { readIops: null, writeIops: null, readBps: null, writeBps: null };

/** A new volume in the pool, its root the containers' root's. */
async function aVolume(path: string | null): Promise<VolumeAttachment> {
  const id = randomUUID();
  const subuid = Number(/^dockremap:(\d+):/m.exec(await readFile('/etc/subuid', 'utf8').catch(() => ''))?.[1] ?? 0);
  await pool.create({ id, sizeGb: 1, backend: 'file' }, subuid);
  return {
    volume: { id, sizeGb: 1, backend: 'file' },
    path,
    serial: id.replace(/-/g, '').slice(0, 20),
    throttle: noLimits,
  };
}

/** What the host holds of the volume: loop devices on its file, and mounts of anything under the pool. */
async function hostHolds(a: VolumeAttachment): Promise<string[]> {
  const loops = (
    await runCommand(['losetup', '--list', '--noheadings', '-O', 'NAME', '--associated', fileOf(a)])
  ).trim();
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.includes(a.volume.id));
  return [...(loops ? loops.split('\n').map((l) => `loop ${l}`) : []), ...mounts.map((m) => `mount ${m}`)];
}

describe('a container volume failing at each step (real dockerd, loop devices, mounts)', () => {
  const driver = dockerWith();
  const spec: InstanceSpec = sampleSpec({
    id: randomUUID(),
    name: 'faults',
    imageRef: env.image,
    limits: sampleLimits(),
    port: port(10),
  });
  let a: VolumeAttachment;
  let sum = '';
  const exec = (script: string) => runCommand([DOCKER, 'exec', `berth-${spec.id}`, 'sh', '-c', script]);
  const inside = async () =>
    (await exec('cat /proc/self/mountinfo')).split('\n').some((l) => l.split(' ')[4] === '/data');

  beforeAll(async () => {
    await pool.init();
    await driver.init();
    await driver.spawn(spec, noSteps);
    a = await aVolume('/data');
    await driver.attachVolume(spec, a, fileOf(a));
    await exec('head -c 1048576 /dev/urandom > /data/blob && sync');
    sum = (await exec('sha256sum /data/blob')).split(' ')[0] ?? '';
    await driver.detachVolume(spec, a, fileOf(a));
  });
  afterAll(async () => {
    await driver.destroy(spec, noSteps);
    await pool.delete(a.volume.id).catch(() => undefined);
    // The mount root the driver made a shared mount of its own.
    await runCommand(['umount', '-l', join(root, 'mounts')]).catch(() => undefined);
  });

  it.each(['volume.mount', 'volume.bind', 'volume.throttle'])(
    'an attach failing at %s leaves nothing of the volume on the host or in the container',
    async (point) => {
      const failing = dockerWith([point]);
      await failing.init();
      await expect(failing.attachVolume(spec, a, fileOf(a))).rejects.toMatchObject({ name: 'FailpointError' });
      expect(await hostHolds(a)).toEqual([]);
      expect(await inside()).toBe(false);
      // And the volume is as it was: attached again, its data reads back.
      await driver.attachVolume(spec, a, fileOf(a));
      expect((await exec('sha256sum /data/blob')).split(' ')[0]).toBe(sum);
      await driver.detachVolume(spec, a, fileOf(a));
      expect(await hostHolds(a)).toEqual([]);
    },
  );

  it('a detach failing midway leaves the volume attached as it was, its data readable in the container', async () => {
    await driver.attachVolume(spec, a, fileOf(a));
    const failing = dockerWith(['volume.unmount']);
    await failing.init();
    await expect(failing.detachVolume(spec, a, fileOf(a))).rejects.toMatchObject({ name: 'FailpointError' });
    expect(await inside()).toBe(true);
    expect((await exec('sha256sum /data/blob')).split(' ')[0]).toBe(sum);
    await driver.detachVolume(spec, a, fileOf(a));
    expect(await hostHolds(a)).toEqual([]);
    expect(await inside()).toBe(false);
  });

  it.each(['docker.commit', 'docker.push'])(
    'a snapshot failing at %s leaves no image and the container running',
    async (point) => {
      const failing = dockerWith([point]);
      await failing.init();
      const imageId = randomUUID();
      const repository = `${env.image.split('/')[0]}/berth-images/${imageId}`;
      await expect(
        failing.captureImage(spec, { imageId, repository }, noSteps, () => () => Promise.resolve()),
      ).rejects.toMatchObject({
        name: 'DriverError',
      });
      await expect(runCommand([DOCKER, 'image', 'inspect', `${repository}:latest`])).rejects.toThrow();
      expect(await driver.powerState(spec.id)).toBe('RUNNING');
    },
  );
});

describe('a VM volume failing at each step (real libvirtd, QEMU)', () => {
  const driver = libvirtWith();
  const spec: InstanceSpec = sampleSpec({
    id: randomUUID(),
    name: 'faults-vm',
    kind: 'vm',
    imageRef: join(env.vmImageDir, 'disk.qcow2'),
    boot: {
      kernelRef: join(env.vmImageDir, 'vmlinuz'),
      initrdRef: join(env.vmImageDir, 'initrd.img'),
      cmdline: 'quiet',
    },
    limits: sampleLimits({ ramMb: 128, cpuQuota: 50 }),
    port: port(11),
  });
  let a: VolumeAttachment;
  /** The volume's disk in the running domain and in its definition, by target. */
  const disks = async () => {
    const find = async (flags: string[]) =>
      /<target dev='(vd[a-z])'/.exec(
        (await virsh('dumpxml', `berth-${spec.id}`, ...flags)).split('</disk>').find((d) => d.includes(fileOf(a))) ??
          '',
      )?.[1] ?? null;
    return { live: await find([]), config: await find(['--inactive']) };
  };

  beforeAll(async () => {
    await pool.init();
    await driver.init();
    await driver.spawn(spec, noSteps);
    a = await aVolume(null);
    // A guest still booting answers a hot-unplug late: the cases start once it is up.
    const log = join(instancesDir, spec.id, 'console.log');
    for (let i = 0; i < 600 && readyBoot(await readFile(log, 'utf8').catch(() => '')) === null; i += 1) {
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  afterAll(async () => {
    await driver.destroy(spec, noSteps);
    await pool.delete(a.volume.id).catch(() => undefined);
    await rm(join(instancesDir, 'image-cache'), { recursive: true, force: true });
    await rmdir(instancesDir).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
    // The parents go when no other test uses them.
    for (const dir of ['/var/lib/berth/test-instances', '/var/lib/berth/test-volumes'])
      await rmdir(dir).catch(() => undefined);
  });

  it('an attach failing once the disk is plugged unplugs it from the guest and the definition', async () => {
    const failing = libvirtWith(['volume.plug']);
    await failing.init();
    await expect(failing.attachVolume(spec, a, fileOf(a))).rejects.toMatchObject({ name: 'FailpointError' });
    expect(await disks()).toEqual({ live: null, config: null });
  });

  it('a detach failing between the definition and the guest plugs the disk back where it was', async () => {
    await driver.attachVolume(spec, a, fileOf(a));
    const before = await disks();
    expect(before.live).toMatch(/^vd[c-z]$/);
    expect(before.config).toBe(before.live);
    const failing = libvirtWith(['volume.unplug']);
    await failing.init();
    await expect(failing.detachVolume(spec, a, fileOf(a))).rejects.toMatchObject({ name: 'FailpointError' });
    expect(await disks()).toEqual(before);
    await driver.detachVolume(spec, a, fileOf(a));
    expect(await disks()).toEqual({ live: null, config: null });
  });
});
