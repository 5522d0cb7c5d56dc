import { cgroupsOfProcess, NO_IO_THROTTLE, parseMountinfo, writeIoThrottle } from '@berth/cgroups';
import type { InstanceSpec, VolumeAttachment } from '@berth/contracts';
import { CommandError, Failpoints, type CommandRunner } from '@berth/platform';
import type Docker from 'dockerode';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { loopDevicesOf } from '../storage/loop-devices';

/** Where, inside every container, its volumes appear first (propagated from the host), before each is bound to its path. */
export const VOLUMES_IN_CONTAINER = '/run/berth/volumes';

/** Debian's own Python (not one a user's PATH finds first): it does the namespace syscalls below. */
const PYTHON = '/usr/bin/python3';

/**
 * Joins the user and mount namespaces of a container's process and binds (or unbinds) a path there, with the
 * container root's own rights: paths resolve inside the container (a symlink there cannot reach the host), and
 * nothing from the container's filesystem is run. A host program does the syscalls after setns, as Incus's
 * forkmount does.
 */
const NS_MOUNT = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def ok(r, what):
    if r != 0:
        e = ctypes.get_errno()
        sys.exit(f"{what}: {os.strerror(e)}")
op, pid, *args = sys.argv[1:]
user = os.open(f"/proc/{pid}/ns/user", os.O_RDONLY)
mnt = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY)
if os.stat(f"/proc/{pid}/ns/user").st_ino != os.stat("/proc/self/ns/user").st_ino:
    os.setgroups([])
    ok(libc.setns(user, 0x10000000), "setns user")
    os.setgid(0)
    os.setuid(0)
ok(libc.setns(mnt, 0x00020000), "setns mount")
os.chdir("/")
if op == "bind":
    src, dst = args
    os.makedirs(dst, exist_ok=True)
    ok(libc.mount(src.encode(), dst.encode(), None, 4096, None), f"bind {dst}")
else:
    (dst,) = args
    ok(libc.umount2(dst.encode(), 2), f"unbind {dst}")
`;

/**
 * A container's volumes: each volume's file on a loop device, its ext4 mounted on the host under the instance's own
 * directory (`<root>/<instance>/<volume>`, nodev and nosuid), which propagates into the container (a bind of
 * `<root>/<instance>` at VOLUMES_IN_CONTAINER, rslave, made at its create), then bound at the asked path inside the
 * container, with the volume type's I/O limits on the loop device in the container's blkio cgroup. Each step is
 * idempotent, so a start binds again what a stop let go.
 */
export class ContainerVolumes {
  constructor(
    private readonly root: string,
    private readonly run: CommandRunner,
    /** volume.mount, volume.bind, volume.throttle (attach) and volume.unmount (detach) fail here on purpose in tests. */
    private readonly failpoints: Failpoints = new Failpoints(),
  ) {}

  /** Makes the root a shared mount of its own, so that what is mounted under it appears in the containers. */
  async init(): Promise<void> {
    // Its parents as any directory (mkdir's mode would reach them too), the root itself the host's root's alone.
    await mkdir(dirname(this.root), { recursive: true });
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    const mounts = parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));
    if (!mounts.some((m) => m.mountPoint === this.root)) await this.run(['mount', '--bind', this.root, this.root]);
    await this.run(['mount', '--make-rshared', this.root]);
  }

  /** The bind every new container gets: its own directory of the root, propagated into it. */
  async mountFor(instanceId: string): Promise<Docker.MountSettings> {
    const source = join(this.root, instanceId);
    await mkdir(source, { recursive: true, mode: 0o755 });
    return { Type: 'bind', Source: source, Target: VOLUMES_IN_CONTAINER, BindOptions: { Propagation: 'rslave' } };
  }

  /** Whether the container was made with the volumes' bind (those made before volumes existed were not). */
  static canAttach(mounts: ReadonlyArray<{ Destination?: string }> | undefined): boolean {
    return (mounts ?? []).some((m) => m.Destination === VOLUMES_IN_CONTAINER);
  }

  /**
   * Attaches a volume to the instance's container: mounted now if it runs, and at each start (spec.volumes). A
   * container made before volumes existed has no way in for them, and is refused.
   */
  async attachTo(
    spec: InstanceSpec,
    a: VolumeAttachment,
    file: string,
    container: Promise<Docker.ContainerInspectInfo | null>,
  ): Promise<void> {
    const info = await container;
    if (!info) throw new Error(`instance ${spec.id} does not exist on this host`);
    if (!ContainerVolumes.canAttach(info.Mounts)) {
      throw new Error('the container was made before volumes existed here: it has no way in for one');
    }
    if (!info.State.Running) return;
    try {
      await this.attach(spec, a, file, info.State.Pid);
    } catch (error) {
      // Nothing of a failed attach stays: not bound inside, not mounted on the host, no loop device on its file.
      await this.detach(spec, a, file, info.State.Pid).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Detaches a volume from the instance's container, running or not. One that fails midway is attached again as it
   * was (a running container sees it at its path), so that it is either attached or not, never half.
   */
  async detachFrom(
    spec: InstanceSpec,
    a: VolumeAttachment,
    file: string,
    container: Promise<Docker.ContainerInspectInfo | null>,
  ): Promise<void> {
    const info = await container;
    const pid = info?.State.Running ? info.State.Pid : null;
    try {
      await this.detach(spec, a, file, pid);
    } catch (error) {
      if (pid !== null) await this.attach(spec, a, file, pid).catch(() => undefined);
      throw error;
    }
  }

  /** Attaches (or attaches again) one volume to the running container whose process is `pid`. */
  async attach(spec: InstanceSpec, a: VolumeAttachment, file: string, pid: number): Promise<void> {
    if (!a.path) throw new Error('a container mounts a volume at a path, and none was given');
    const loop = await this.loopOf(file);
    const onHost = join(this.root, spec.id, a.volume.id);
    await this.failpoints.check('volume.mount');
    if (!(await this.mounted(onHost))) {
      await mkdir(onHost, { recursive: true });
      // A filesystem a guest may have written is checked (and mended) before the host's kernel mounts it.
      await this.run(['e2fsck', '-p', loop], { timeoutMs: 300_000 }).catch((error: unknown) => {
        // 1: errors mended; 2: mended, and a mounted system would want a reboot (this one is not mounted).
        if (!(error instanceof CommandError) || (error.exitCode !== 1 && error.exitCode !== 2)) throw error;
      });
      await this.run(['mount', '-t', 'ext4', '-o', 'nodev,nosuid', loop, onHost]);
    }
    await this.failpoints.check('volume.bind');
    if (!(await this.mounted(a.path, pid))) {
      await this.run([PYTHON, '-c', NS_MOUNT, 'bind', String(pid), `${VOLUMES_IN_CONTAINER}/${a.volume.id}`, a.path]);
    }
    await this.failpoints.check('volume.throttle');
    await writeIoThrottle(await cgroupsOfProcess(pid), await deviceId(loop), a.throttle);
  }

  /** Detaches one volume: unbound inside the container (if it runs), unmounted on the host, its loop device gone. */
  async detach(spec: InstanceSpec, a: VolumeAttachment, file: string, pid: number | null): Promise<void> {
    const loops = await loopDevicesOf(this.run, file);
    if (pid !== null && a.path && (await this.mounted(a.path, pid))) {
      await this.run([PYTHON, '-c', NS_MOUNT, 'unbind', String(pid), a.path]);
    }
    await this.failpoints.check('volume.unmount');
    if (pid !== null) {
      for (const loop of loops) {
        await writeIoThrottle(await cgroupsOfProcess(pid), await deviceId(loop), NO_IO_THROTTLE).catch(() => undefined);
      }
    }
    await this.release(join(this.root, spec.id, a.volume.id), loops);
  }

  /** Everything the instance held on the host (its volumes' mounts and loop devices, its directory): at its destroy. */
  async releaseAll(instanceId: string): Promise<void> {
    await this.releaseMounts(instanceId);
    await rm(join(this.root, instanceId), { recursive: true, force: true });
  }

  /** Its volumes' mounts and loop devices, while it is stopped; its directory (bound into it) stays for its start. */
  async releaseMounts(instanceId: string): Promise<void> {
    const dir = join(this.root, instanceId);
    const volumes = await readdir(dir).catch(() => [] as string[]);
    for (const volume of volumes) await this.release(join(dir, volume), []);
  }

  private async release(onHost: string, loops: string[]): Promise<void> {
    const mount = (await this.mountsOf(null)).find((m) => m.mountPoint === onHost);
    if (mount) await this.run(['umount', onHost]);
    const backing = mount?.source.startsWith('/dev/loop') ? [mount.source] : [];
    for (const loop of new Set([...loops, ...backing])) await this.run(['losetup', '-d', loop]).catch(() => undefined);
    await rm(onHost, { recursive: true, force: true });
  }

  private async loopOf(file: string): Promise<string> {
    const [loop] = await loopDevicesOf(this.run, file);
    return loop ?? (await this.run(['losetup', '--find', '--show', file])).trim();
  }

  private async mountsOf(pid: number | null) {
    return parseMountinfo(await readFile(`/proc/${pid ?? 'self'}/mountinfo`, 'utf8'));
  }

  private async mounted(path: string, pid: number | null = null): Promise<boolean> {
    return (await this.mountsOf(pid)).some((m) => m.mountPoint === path);
  }
}

/** A block device's "major:minor", as the kernel lists it. */
async function deviceId(device: string): Promise<string> {
  return (await readFile(`/sys/block/${basename(device)}/dev`, 'utf8')).trim();
}
