import { cgroupsOfProcess } from '@berth/cgroups';
import { runCommand } from '@berth/platform';
import { randomInt, randomUUID } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { containerPid, guestExec, readyBoot } from './support/probes';
import { TestStack } from './support/stack';
import { testEnv } from './support/test-env';
import { vmHost } from './support/vm-host';

// Volumes on the real host: the agent's file pool, each volume a raw file with an ext4 filesystem whose UUID is the
// volume's id, grown with its data kept, and gone at delete. Read back from the files themselves, not from Berth.

const GIB = 1024 ** 3;
const DOCKER = '/usr/bin/docker';
const net = `10.${randomInt(100, 200)}.${randomInt(0, 255)}`;
const vms = vmHost('volumes');
const env = testEnv();

/** Runs a command in the instance's container, as its (remapped) root. */
const exec = (instanceId: string, script: string) =>
  runCommand([DOCKER, 'exec', `berth-${instanceId}`, 'sh', '-c', script], { timeoutMs: 60_000 });

/** The filesystem's own header, as dumpe2fs prints it. */
async function superblock(file: string): Promise<Record<string, string>> {
  const out = await runCommand(['dumpe2fs', '-h', file]);
  return Object.fromEntries(
    out.split('\n').flatMap((line) => {
      const at = line.indexOf(':');
      return at > 0 ? [[line.slice(0, at).trim(), line.slice(at + 1).trim()]] : [];
    }),
  );
}

describe('volumes on a real host (file pool)', () => {
  let stack: TestStack;
  const file = (id: string) => join(stack.volumesDir, `${id}.raw`);
  const hostDisk = async () =>
    ((await stack.call('GET', '/v1/hosts')).body.items as any[]).find((h) => h.name === stack.hostName).usage.diskGb;
  const create = async (body: Record<string, unknown>) => {
    const res = await stack.call('POST', '/v1/volumes', body);
    expect(res.status).toBe(202);
    return { res, op: await stack.operation(res.body.operationId) };
  };

  const act = async (instanceId: string, body: Record<string, unknown>) => {
    const res = await stack.call('POST', `/v1/instances/${instanceId}/actions`, body);
    expect({ status: res.status, body: res.status === 202 ? 'ok' : res.body }).toEqual({ status: 202, body: 'ok' });
    const op = await stack.operation(res.body.operationId, 120_000);
    // How it ended, with its error when it failed.
    return { status: op.status, fault: op.status === 'succeeded' ? null : op.fault };
  };

  beforeAll(async () => {
    stack = await TestStack.start({ env: vms.env });
    // Room in the quota for a volume larger than the host: the host, not the quota, is to refuse it.
    const [admin] = (await stack.call('GET', '/v1/projects')).body.items;
    expect((await stack.call('PUT', `/v1/projects/${admin.id}/quotas`, { volumeGb: -1 })).status).toBe(200);
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
      ['/v1/networks', { name: 'lan', vlan: 3900, cidr: `${net}.0/24`, gateway: `${net}.1` }],
    ] as const) {
      expect((await stack.call('POST', path, body)).status).toBe(201);
    }
  });
  afterAll(async () => {
    await stack?.stop();
    await vms.remove();
  });

  it('makes a volume on its host: a raw file of its size with ext4 named by its id, its root the containers’', async () => {
    const before = await hostDisk();
    const { res, op } = await create({ name: 'data', sizeGb: 1 });
    expect(op.status).toBe('succeeded');
    expect(op.steps.map((s: any) => s.name)).toEqual(['schedule', 'create']);
    const volume = (await stack.call('GET', `/v1/volumes/${res.body.id}`)).body;
    expect(volume).toMatchObject({ status: 'available', sizeGb: 1, type: 'local', host: stack.hostName, fault: null });
    expect((await stat(file(volume.id))).size).toBe(GIB);
    // The pool is root's to list, and QEMU's to open a volume in by name.
    expect((await stat(stack.volumesDir)).mode & 0o777).toBe(0o711);
    const fs = await superblock(file(volume.id));
    expect(fs['Filesystem UUID']).toBe(volume.id);
    expect(Number(fs['Block count']) * Number(fs['Block size'])).toBe(GIB);
    // Its root directory belongs to the uid containers' root is mapped to, so that a container can write there.
    const subuid = /^dockremap:(\d+):/m.exec(await readFile('/etc/subuid', 'utf8').catch(() => ''))?.[1] ?? '0';
    expect(await runCommand(['debugfs', '-R', 'stat /', file(volume.id)])).toMatch(new RegExp(`User:\\s+${subuid}\\s`));
    expect(await hostDisk()).toBe(before + 1);
    const quota = (await stack.call('GET', `/v1/projects/${volume.projectId}/quotas`)).body;
    expect(quota.volumes.used).toBeGreaterThanOrEqual(1);
  });

  it('grows a volume and its filesystem, keeping what was written on it', async () => {
    const { res } = await create({ name: 'grow', sizeGb: 1 });
    const path = file(res.body.id);
    await runCommand(['debugfs', '-w', '-R', 'write /etc/hostname kept', path]);
    const extend = await stack.call('POST', `/v1/volumes/${res.body.id}/actions`, { action: 'extend', sizeGb: 2 });
    expect(extend.status).toBe(202);
    expect(extend.body.status).toBe('extending');
    expect((await stack.operation(extend.body.operationId)).status).toBe('succeeded');
    expect((await stack.call('GET', `/v1/volumes/${res.body.id}`)).body).toMatchObject({
      status: 'available',
      sizeGb: 2,
    });
    expect((await stat(path)).size).toBe(2 * GIB);
    const fs = await superblock(path);
    expect(Number(fs['Block count']) * Number(fs['Block size'])).toBe(2 * GIB);
    expect(await runCommand(['debugfs', '-R', 'cat /kept', path])).toBe(await readFile('/etc/hostname', 'utf8'));
    // Grow only: the same size or less is refused, and nothing changes.
    const shrink = await stack.call('POST', `/v1/volumes/${res.body.id}/actions`, { action: 'extend', sizeGb: 1 });
    expect(shrink.status).toBe(400);
    expect(shrink.body.error.details).toEqual([expect.objectContaining({ field: 'sizeGb', rule: 'grow' })]);
    expect((await stat(path)).size).toBe(2 * GIB);
  });

  it('refuses bad input naming the field, and makes nothing', async () => {
    const volumesBefore = (await stack.call('GET', '/v1/volumes')).body.items.length;
    for (const [body, status, field] of [
      [{ name: 'zero', sizeGb: 0 }, 400, 'sizeGb'],
      [{ name: 'negative', sizeGb: -1 }, 400, 'sizeGb'],
      [{ name: 'huge', sizeGb: 16_385 }, 400, 'sizeGb'],
      [{ name: 'half', sizeGb: 1.5 }, 400, 'sizeGb'],
      [{ name: 'not a name!', sizeGb: 1 }, 400, 'name'],
      [{ name: 'near', sizeGb: 1, localTo: 'web-1' }, 400, 'localTo'],
      [{ name: 'typed', sizeGb: 1, type: 'no-such-type' }, 404, 'type'],
    ] as const) {
      const res = await stack.call('POST', '/v1/volumes', body);
      expect({ body, status: res.status }).toEqual({ body, status });
      expect(res.body.error.details.map((d: any) => d.field)).toContain(field);
    }
    expect((await stack.call('GET', '/v1/volumes')).body.items).toHaveLength(volumesBefore);
  });

  it('fails a volume no host has room for, naming the reason, with nothing left on the host', async () => {
    const free = await hostDisk();
    const { res, op } = await create({ name: 'too-big', sizeGb: 16_000 });
    expect(op).toMatchObject({ status: 'failed', fault: { step: 'schedule', reason: 'DiskCapacity' } });
    expect(op.fault.message).toContain(`${stack.hostName}: DiskCapacity: diskGb needs 16000`);
    expect((await stack.call('GET', `/v1/volumes/${res.body.id}`)).body).toMatchObject({
      status: 'error',
      hostId: null,
    });
    await expect(stat(file(res.body.id))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await hostDisk()).toBe(free);
    // A volume that never reached a host goes at once.
    const gone = await stack.call('DELETE', `/v1/volumes/${res.body.id}`);
    expect(gone.status).toBe(202);
    expect((await stack.call('GET', `/v1/volumes/${res.body.id}`)).status).toBe(404);
  });

  it('deletes a volume: its file, its record and its room on the host go', async () => {
    const { res } = await create({ name: 'doomed', sizeGb: 1 });
    const before = await hostDisk();
    const del = await stack.call('DELETE', `/v1/volumes/${res.body.id}`);
    expect(del.status).toBe(202);
    expect(del.body.status).toBe('deleting');
    expect((await stack.operation(del.body.operationId)).status).toBe('succeeded');
    expect((await stack.call('GET', `/v1/volumes/${res.body.id}`)).status).toBe(404);
    await expect(stat(file(res.body.id))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await hostDisk()).toBe(before - 1);
    const audit = (await stack.call('GET', `/v1/operations?target=${res.body.id}`)).body.items.map(
      (o: any) => o.action,
    );
    expect(audit.sort()).toEqual(['volume.create', 'volume.delete']);
  });

  it("compares its host's pool with the records as the agent starts: a lost file makes its volume error, a stray is listed and kept", async () => {
    const { res: kept } = await create({ name: 'kept', sizeGb: 1 });
    const { res: lost } = await create({ name: 'lost', sizeGb: 1 });
    const stray = randomUUID();
    await runCommand(['truncate', '-s', '1M', file(stray)]);
    try {
      // Behind Berth's back, as a disk that lost a file would.
      await rm(file(lost.body.id));
      await stack.kill(stack.hostName);
      stack.restartAgent(stack.hostName);
      const host = await stack.until('the host to list its stray', async () => {
        const hosts = (await stack.call('GET', '/v1/hosts')).body.items as any[];
        const mine = hosts.find((h) => h.name === stack.hostName);
        return mine?.state === 'up' && mine.strayVolumes.length > 0 ? mine : null;
      });
      expect(host.strayVolumes).toEqual([stray]);
      expect((await stack.call('GET', `/v1/volumes/${lost.body.id}`)).body).toMatchObject({
        status: 'error',
        fault: { step: 'reconcile' },
      });
      expect((await stack.call('GET', `/v1/volumes/${kept.body.id}`)).body).toMatchObject({ status: 'available' });
      // The stray stays on the host; the lost volume's record can be deleted.
      expect((await stat(file(stray))).size).toBe(1024 * 1024);
      const del = await stack.call('DELETE', `/v1/volumes/${lost.body.id}`);
      expect(del.status).toBe(202);
      expect((await stack.operation(del.body.operationId)).status).toBe('succeeded');
    } finally {
      await rm(file(stray), { force: true });
      await stack.call('DELETE', `/v1/volumes/${kept.body.id}`);
    }
  });

  describe('attached to containers', () => {
    it('carries a file from one container to another, across a stop and start, and outlives its instance', async () => {
      const a = await stack.createInstance({ name: 'vol-a', network: 'lan' });
      const b = await stack.createInstance({ name: 'vol-b', network: 'lan' });
      const { res } = await create({ name: 'shared', sizeGb: 1, localTo: a.id });
      const volume = res.body.id;
      expect(await act(a.id, { action: 'attach', volume, path: '/data' })).toEqual({
        status: 'succeeded',
        fault: null,
      });
      expect((await stack.call('GET', `/v1/volumes/${volume}`)).body.status).toBe('in-use');
      // Written by the container's own root, through the mount the host made inside its namespaces.
      await exec(a.id, 'head -c 4194304 /dev/urandom > /data/blob && sync');
      const sum = (await exec(a.id, 'sha256sum /data/blob')).split(' ')[0];
      expect(sum).toMatch(/^[0-9a-f]{64}$/);
      // A stop and start mounts it again.
      await stack.act(a.id, 'stop');
      await stack.act(a.id, 'start');
      expect((await exec(a.id, 'sha256sum /data/blob')).split(' ')[0]).toBe(sum);

      expect(await act(a.id, { action: 'detach', volume })).toEqual({ status: 'succeeded', fault: null });
      expect((await exec(a.id, 'ls /data 2>/dev/null | wc -l')).trim()).toBe('0');
      expect(await act(b.id, { action: 'attach', volume, path: '/srv/shared' })).toEqual({
        status: 'succeeded',
        fault: null,
      });
      expect((await exec(b.id, 'sha256sum /srv/shared/blob')).split(' ')[0]).toBe(sum);

      // Deleting the instance lets the volume go with its data.
      expect((await stack.remove(b.id)).status).toBe('succeeded');
      expect((await stack.call('GET', `/v1/volumes/${volume}`)).body).toMatchObject({ status: 'available' });
      expect(await runCommand(['losetup', '--list', '--noheadings', '--associated', file(volume)])).toBe('');
      expect(await act(a.id, { action: 'attach', volume, path: '/data' })).toEqual({
        status: 'succeeded',
        fault: null,
      });
      expect((await exec(a.id, 'sha256sum /data/blob')).split(' ')[0]).toBe(sum);
      expect((await stack.remove(a.id)).status).toBe('succeeded');
    });

    it('builds a container with its volume mounted at its path, on the volume’s host, in use at once', async () => {
      const { res } = await create({ name: 'built-with', sizeGb: 1 });
      const volume = res.body.id;
      const c = await stack.createInstance({
        name: 'vol-built',
        network: 'lan',
        volumes: [{ volume, path: '/srv/db' }],
      });
      expect(c).toMatchObject({ status: 'ACTIVE', host: stack.hostName });
      expect((await stack.call('GET', `/v1/volumes/${volume}`)).body).toMatchObject({
        status: 'in-use',
        attachment: { instanceId: c.id, path: '/srv/db' },
      });
      expect(await exec(c.id, 'ls /srv/db')).toContain('lost+found');
      expect((await stack.remove(c.id)).status).toBe('succeeded');
      expect((await stack.call('GET', `/v1/volumes/${volume}`)).body).toMatchObject({ status: 'available' });
    });

    it("holds a volume's writes to its type's 20 IOPS with O_DIRECT, read back from the container's cgroup", async () => {
      const type = await stack.call('POST', '/v1/volume-types', { name: 'slow', writeIops: 20 });
      expect(type.status).toBe(201);
      const d = await stack.createInstance({ name: 'vol-d', network: 'lan' });
      const { res } = await create({ name: 'slow-data', sizeGb: 1, type: 'slow', localTo: d.id });
      expect(await act(d.id, { action: 'attach', volume: res.body.id, path: '/data' })).toEqual({
        status: 'succeeded',
        fault: null,
      });
      const [loop] = (
        await runCommand(['losetup', '--list', '--noheadings', '-O', 'NAME', '--associated', file(res.body.id)])
      )
        .trim()
        .split('\n');
      const device = (await readFile(`/sys/block/${(loop ?? '').replace('/dev/', '')}/dev`, 'utf8')).trim();
      const cg = await cgroupsOfProcess(await containerPid(d.id));
      const [file_, line] =
        cg.version === 1
          ? ['blkio.throttle.write_iops_device', `${device} 20`]
          : ['io.max', `${device} rbps=max wbps=max riops=max wiops=20`];
      expect(await readFile(join(cg.dir('io'), file_), 'utf8')).toContain(line);
      const out = await exec(
        d.id,
        'read a _ < /proc/uptime; dd if=/dev/zero of=/data/dd.out bs=4k count=60 oflag=direct 2>/dev/null; ' +
          'read b _ < /proc/uptime; echo "$a $b"',
      );
      const [start, end] = out.trim().split(' ').map(Number);
      const opsPerSec = 60 / Math.max(0.01, (end ?? 0) - (start ?? 0));
      expect({ opsPerSec, low: opsPerSec >= 15, high: opsPerSec <= 25 }).toMatchObject({ low: true, high: true });
      expect((await stack.remove(d.id)).status).toBe('succeeded');
    });

    it("binds through a tenant's symlink only inside its own container, never on the host", async () => {
      const e = await stack.createInstance({ name: 'vol-e', network: 'lan' });
      const { res } = await create({ name: 'linked', sizeGb: 1, localTo: e.id });
      // The container's root points a path at a directory the host also has: the bind must land in the container.
      await exec(e.id, 'mkdir -p /var/spool && ln -s /var/spool /tenant-link');
      const hostMountsBefore = await readFile('/proc/self/mountinfo', 'utf8');
      expect(await act(e.id, { action: 'attach', volume: res.body.id, path: '/tenant-link' })).toEqual({
        status: 'succeeded',
        fault: null,
      });
      expect(await exec(e.id, 'ls /var/spool')).toContain('lost+found');
      // On the host, the volume is mounted once, under the stack's mount root, and nowhere else.
      const added = (await readFile('/proc/self/mountinfo', 'utf8'))
        .split('\n')
        .filter((line) => line && !hostMountsBefore.includes(line))
        .map((line) => line.split(' ')[4]);
      expect(added).toEqual([join(stack.volumesDir, 'mounts', e.id, res.body.id)]);
      expect((await stack.remove(e.id)).status).toBe('succeeded');
    });

    it('refuses a mount point it must not use, a missing path or volume, and a VM’s serial, changing nothing', async () => {
      const c = await stack.createInstance({ name: 'vol-c', network: 'lan' });
      const { res } = await create({ name: 'guarded', sizeGb: 1, localTo: c.id });
      const volume = res.body.id;
      for (const [body, field] of [
        [{ action: 'attach', volume, path: '/' }, 'path'],
        [{ action: 'attach', volume, path: '/proc/sys' }, 'path'],
        [{ action: 'attach', volume, path: '/sys' }, 'path'],
        [{ action: 'attach', volume, path: 'data' }, 'path'],
        [{ action: 'attach', volume, path: '/data/../etc' }, 'path'],
        [{ action: 'attach', volume }, 'path'],
        [{ action: 'attach', volume, path: '/data', serial: 'abc' }, 'serial'],
        [{ action: 'attach', path: '/data' }, 'volume'],
      ] as const) {
        const refused = await stack.call('POST', `/v1/instances/${c.id}/actions`, body);
        expect({ body, status: refused.status }).toEqual({ body, status: 400 });
        expect(refused.body.error.details.map((d: any) => d.field)).toContain(field);
      }
      expect((await stack.call('GET', `/v1/volumes/${volume}`)).body.status).toBe('available');
      expect((await stack.remove(c.id)).status).toBe('succeeded');
    });
  });

  describe('attached to VMs', () => {
    const consoleSocket = (id: string) => join(vms.dir, id, 'console.sock');
    const guestReady = (id: string, after = 0) =>
      stack.until(
        'the guest to be ready',
        async () => readyBoot(await readFile(join(vms.dir, id, 'console.log'), 'utf8').catch(() => ''), after),
        120_000,
      );
    const guest = async (id: string, command: string) => {
      const { code, output } = await guestExec(consoleSocket(id), command, 60_000);
      expect({ command, code, output }).toMatchObject({ command, code: 0 });
      return output.trim();
    };
    /** The guest's disk whose serial is this one (the guest names disks in its own order). */
    const diskBySerial = (id: string, serial: string) =>
      guest(id, `for d in /sys/block/vd*; do [ "$(cat $d/serial)" = ${serial} ] && echo \${d##*/}; done; true`);
    /** The volume's <disk> in the domain's running XML or its definition, as virsh prints it ('' when it has none). */
    const diskXml = async (id: string, volumeId: string, inactive = false) => {
      const xml = await runCommand([
        'virsh',
        '-c',
        'qemu:///system',
        'dumpxml',
        `berth-${id}`,
        ...(inactive ? ['--inactive'] : []),
      ]);
      return xml.split('</disk>').find((d) => d.includes(file(volumeId))) ?? '';
    };

    it("plugs a volume into a running VM as a disk with its serial and type's IOPS, kept across stop and start, then into a container", async () => {
      expect((await stack.call('POST', '/v1/volume-types', { name: 'vm-io', writeIops: 25 })).status).toBe(201);
      const vm = await stack.createInstance({ name: 'vol-vm', kind: 'vm', image: 'test-vm', network: 'lan' });
      await guestReady(vm.id);
      const { res } = await create({ name: 'vm-data', sizeGb: 1, type: 'vm-io', localTo: vm.id });
      const volume = res.body.id;
      const serial = volume.replace(/-/g, '').slice(0, 20);
      expect(await act(vm.id, { action: 'attach', volume })).toEqual({ status: 'succeeded', fault: null });
      expect((await stack.call('GET', `/v1/volumes/${volume}`)).body).toMatchObject({ status: 'in-use' });
      for (const inactive of [false, true]) {
        const disk = await diskXml(vm.id, volume, inactive);
        expect(disk).toContain(`<serial>${serial}</serial>`);
        expect(disk).toMatch(/<write_iops_sec>25<\/write_iops_sec>/);
      }
      // The guest finds a hot-plugged disk on its own time.
      const dev = await stack.until(
        'the guest to see the disk',
        async () => (await diskBySerial(vm.id, serial)) || null,
      );
      expect(dev).toMatch(/^vd[c-z]$/);
      // The guest's own kernel writes through the throttle: 75 direct writes at 25 IOPS take about 3 s.
      await guest(vm.id, `mkdir -p /mnt/v && mount -t ext4 /dev/${dev} /mnt/v`);
      const times = await guest(
        vm.id,
        'read a _ < /proc/uptime; dd if=/dev/zero of=/mnt/v/dd.out bs=4k count=75 oflag=direct 2>/dev/null; ' +
          'read b _ < /proc/uptime; echo "$a $b"',
      );
      const [start, end] = times.split('\n').pop()!.split(' ').map(Number);
      const opsPerSec = 75 / Math.max(0.01, (end ?? 0) - (start ?? 0));
      expect({ opsPerSec, low: opsPerSec >= 18.75, high: opsPerSec <= 31.25 }).toMatchObject({ low: true, high: true });
      await guest(vm.id, 'head -c 1048576 /dev/urandom > /mnt/v/blob && sync');
      const sum = (await guest(vm.id, 'sha256sum /mnt/v/blob')).split('\n').pop()!.split(' ')[0];
      expect(sum).toMatch(/^[0-9a-f]{64}$/);
      await guest(vm.id, 'umount /mnt/v');

      // Stopped and started, the domain comes back with the disk its definition holds.
      await stack.act(vm.id, 'stop');
      const booted = (await readFile(join(vms.dir, vm.id, 'console.log'), 'utf8')).length;
      await stack.act(vm.id, 'start');
      await guestReady(vm.id, booted);
      expect(await diskBySerial(vm.id, serial)).toMatch(/^vd[c-z]$/);

      // Unplugged live: gone from the guest, the running domain and its definition; then a container reads the file.
      expect(await act(vm.id, { action: 'detach', volume })).toEqual({ status: 'succeeded', fault: null });
      expect(await diskBySerial(vm.id, serial)).toBe('');
      expect(await diskXml(vm.id, volume)).toBe('');
      expect(await diskXml(vm.id, volume, true)).toBe('');
      const c = await stack.createInstance({ name: 'vol-after-vm', network: 'lan' });
      expect(await act(c.id, { action: 'attach', volume, path: '/data' })).toEqual({
        status: 'succeeded',
        fault: null,
      });
      expect((await exec(c.id, 'sha256sum /data/blob')).split(' ')[0]).toBe(sum);
      expect((await stack.remove(c.id)).status).toBe('succeeded');
      expect((await stack.remove(vm.id)).status).toBe('succeeded');
      expect((await stack.call('GET', `/v1/volumes/${volume}`)).body).toMatchObject({ status: 'available' });
    });

    it('builds a VM with its volume as a disk the guest finds by its serial, and deletes it with the VM as asked', async () => {
      const { res } = await create({ name: 'vm-built-with', sizeGb: 1 });
      const volume = res.body.id;
      const vm = await stack.createInstance({
        name: 'vol-vm-built',
        kind: 'vm',
        image: 'test-vm',
        network: 'lan',
        volumes: [{ volume, serial: 'built-disk', deleteOnTermination: true }],
      });
      expect(vm).toMatchObject({ status: 'ACTIVE' });
      expect((await stack.call('GET', `/v1/volumes/${volume}`)).body).toMatchObject({ status: 'in-use' });
      expect(await diskXml(vm.id, volume, true)).toContain('<serial>built-disk</serial>');
      await guestReady(vm.id);
      expect(await diskBySerial(vm.id, 'built-disk')).toMatch(/^vd[c-z]$/);
      // Built to go with the instance: its delete takes the volume, file and all, from the host.
      expect((await stack.remove(vm.id)).status).toBe('succeeded');
      await stack.until(
        'the volume to go',
        async () => (await stack.call('GET', `/v1/volumes/${volume}`)).status === 404,
      );
      await expect(stat(file(volume))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('refuses a path for a VM, naming the field, and leaves the volume available', async () => {
      const vm = await stack.createInstance({ name: 'vol-vm-2', kind: 'vm', image: 'test-vm', network: 'lan' });
      const { res } = await create({ name: 'vm-guarded', sizeGb: 1, localTo: vm.id });
      const refused = await stack.call('POST', `/v1/instances/${vm.id}/actions`, {
        action: 'attach',
        volume: res.body.id,
        path: '/data',
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error.details.map((d: any) => d.field)).toEqual(['path']);
      expect((await stack.call('GET', `/v1/volumes/${res.body.id}`)).body.status).toBe('available');
      expect(await diskXml(vm.id, res.body.id, true)).toBe('');
      expect((await stack.remove(vm.id)).status).toBe('succeeded');
    });
  });
});
