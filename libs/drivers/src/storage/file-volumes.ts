import type { DiskArtifact, VolumeSpec } from '@berth/contracts';
import type { CommandRunner } from '@berth/platform';
import { chmod, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sha256File } from './ssh-copy';
import { loopDevicesOf } from './loop-devices';
import type { VolumeBackend } from './volume-backend';

const GIB = 1024 ** 3;
const SUFFIX = '.raw';

/**
 * Volumes as raw files in one pool directory (`<dir>/<id>.raw`), sparse: a volume takes the host's disk as it is
 * written. Containers reach a file through a loop device; VMs open it as a raw disk. A volume is made as
 * `<id>.raw.part` and renamed once complete, so a crash midway never leaves a volume that looks whole.
 */
export class FileVolumes implements VolumeBackend {
  readonly name = 'file' as const;

  constructor(
    private readonly dir: string,
    private readonly run: CommandRunner,
  ) {}

  /**
   * Makes the pool: its parents as any directory (a VM's files may sit beside it, and QEMU must reach them), the
   * pool itself only the host's root's to read (0711: a hypervisor may open a file in it by name). A pool an
   * earlier agent made 0700 is set to 0711 as well, or QEMU could not open its volumes.
   */
  async init(): Promise<void> {
    await mkdir(dirname(this.dir), { recursive: true });
    await mkdir(this.dir, { recursive: true, mode: 0o711 });
    await chmod(this.dir, 0o711);
  }

  /** The volume's file; ids are uuids, checked again here since the name becomes a path. */
  path(volumeId: string): string {
    if (!/^[0-9a-f-]{36}$/.test(volumeId)) throw new Error(`not a volume id: ${volumeId}`);
    return join(this.dir, `${volumeId}${SUFFIX}`);
  }

  async create(volume: VolumeSpec, rootOwner: number): Promise<void> {
    const path = this.path(volume.id);
    const size = volume.sizeGb * GIB;
    const have = await this.bytes(volume.id);
    if (have === size) return;
    if (have !== null) throw new Error(`volume ${volume.id} exists with ${have} bytes, not ${size}`);
    const part = `${path}.part`;
    try {
      await rm(part, { force: true });
      await this.run(['truncate', '-s', String(size), part]);
      // Its filesystem's UUID is the volume's id: a guest finds it under /dev/disk/by-uuid.
      await this.run([
        'mkfs.ext4',
        '-q',
        '-F',
        '-U',
        volume.id,
        '-E',
        `root_owner=${rootOwner}:${rootOwner},lazy_itable_init=1,lazy_journal_init=1`,
        part,
      ]);
      await rename(part, path);
    } catch (error) {
      await rm(part, { force: true });
      throw error;
    }
  }

  async extend(volume: VolumeSpec): Promise<void> {
    const path = this.path(volume.id);
    const size = volume.sizeGb * GIB;
    const have = await this.bytes(volume.id);
    if (have === null) throw new Error(`volume ${volume.id} does not exist on this host`);
    if (have > size) throw new Error(`volume ${volume.id} has ${have} bytes: it cannot shrink to ${size}`);
    await this.refuseAttached(volume.id);
    // The filesystem is checked before it grows (resize2fs insists), and grows to the end of the file.
    await this.run(['e2fsck', '-f', '-p', path], { timeoutMs: 600_000 });
    if (have < size) await this.run(['truncate', '-s', String(size), path]);
    try {
      await this.run(['resize2fs', path], { timeoutMs: 600_000 });
    } catch (error) {
      // resize2fs changes nothing when it fails before writing; the file goes back to its size.
      await this.run(['truncate', '-s', String(have), path]).catch(() => undefined);
      throw error;
    }
  }

  async delete(volumeId: string): Promise<void> {
    const path = this.path(volumeId);
    if ((await this.bytes(volumeId)) === null) {
      await rm(`${path}.part`, { force: true });
      return;
    }
    await this.refuseAttached(volumeId);
    await rm(path, { force: true });
  }

  async bytes(volumeId: string): Promise<number | null> {
    try {
      return (await stat(this.path(volumeId))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  source(volumeId: string): { file: string } {
    return { file: this.path(volumeId) };
  }

  async list(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.filter((n) => n.endsWith(SUFFIX)).map((n) => n.slice(0, -SUFFIX.length));
  }

  async export(volumeId: string): Promise<DiskArtifact> {
    if ((await this.bytes(volumeId)) === null) throw new Error(`volume ${volumeId} does not exist on this host`);
    await this.refuseAttached(volumeId);
    const path = this.path(volumeId);
    return { path, ...(await sha256File(path)) };
  }

  async receive(volumeId: string, fetch: (path: string) => Promise<void>): Promise<void> {
    const path = this.path(volumeId);
    if ((await this.bytes(volumeId)) !== null) return;
    const part = `${path}.part`;
    try {
      await rm(part, { force: true });
      await fetch(part);
      await rename(part, path);
    } catch (error) {
      await rm(part, { force: true });
      throw error;
    }
  }

  private async refuseAttached(volumeId: string): Promise<void> {
    const loops = await loopDevicesOf(this.run, this.path(volumeId));
    if (loops.length > 0) throw new Error(`volume ${volumeId} is attached (${loops.join(', ')})`);
  }
}
