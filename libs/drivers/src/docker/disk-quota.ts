import type { CommandRunner } from '@berth/platform';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A container's writable layer held to its flavor's disk. Docker's btrfs storage driver makes each
 * container's writable layer a subvolume and `--storage-opt size` sets its quota group's limit on the
 * data it refers to; a write past it fails inside the container ("Disk quota exceeded") and nothing
 * else on the host feels it. Docker cannot change the size of a created container, so a live grow
 * sets the quota group's limit itself. overlay2 holds sizes only on XFS with project quotas, which this
 * machine's kernel lacks (CONFIG_XFS_QUOTA); on any driver but btrfs the layer is not held.
 */
export interface DiskQuota {
  /** The `--storage-opt` that creates a container held to `diskGb`. */
  storageOpt(diskGb: number): Record<string, string>;
  /**
   * Raises a created container's limit to `diskGb` where it is lower, and reads it back. A disk only grows;
   * a container made without a limit keeps none.
   */
  grow(containerId: string, diskGb: number): Promise<void>;
  /**
   * Makes the kernel hold the limits: btrfs neither accounts nor enforces quota groups it has marked inconsistent,
   * until they are rescanned. Since kernel 6.1 it marks them so whenever its cleaner drops a deleted subvolume whose
   * tree has 3 levels or more (a container that wrote a gigabyte, say), after dockerd's own rescan at the removal.
   * Sets that threshold to 8 levels (BTRFS_MAX_LEVEL: such drops are accounted, as before 6.1), and rescans, waiting,
   * when the groups are marked. Called when a container is made and after one is removed.
   */
  hold(): Promise<void>;
}

const GIB = 1024 ** 3;
/** BTRFS_MAX_LEVEL: no dropped tree is that tall, so none marks the quota groups inconsistent. */
const MAX_LEVEL = 8;

/** The disk quota of a dockerd whose storage driver is `driver`, or null where it holds no sizes. */
export function diskQuotaOf(
  driver: string,
  rootDir: string,
  run: CommandRunner,
  sysfs = '/sys/fs/btrfs',
): DiskQuota | null {
  return driver === 'btrfs' ? new BtrfsQuota(rootDir, run, sysfs) : null;
}

class BtrfsQuota implements DiskQuota {
  /** The filesystem's UUID, which names its directory in sysfs. */
  private uuid: string | null = null;

  constructor(
    private readonly rootDir: string,
    private readonly run: CommandRunner,
    private readonly sysfs: string,
  ) {}

  async hold(): Promise<void> {
    this.uuid ??=
      /uuid: ([0-9a-f-]{36})/.exec(await this.run(['btrfs', 'filesystem', 'show', this.rootDir]))?.[1] ?? null;
    if (!this.uuid) throw new Error(`btrfs shows no filesystem UUID for ${this.rootDir}`);
    const qgroups = join(this.sysfs, this.uuid, 'qgroups');
    const threshold = join(qgroups, 'drop_subtree_threshold');
    const level = await readFile(threshold, 'utf8').catch(() => null);
    // A kernel before 6.1 has no threshold: it accounts every drop.
    if (level !== null && level.trim() !== String(MAX_LEVEL)) await writeFile(threshold, String(MAX_LEVEL));
    // -w waits for the rescan, joining one already running.
    if ((await readFile(join(qgroups, 'inconsistent'), 'utf8')).trim() === '1') {
      await this.run(['btrfs', 'quota', 'rescan', '-w', this.rootDir]);
    }
  }

  storageOpt(diskGb: number): Record<string, string> {
    return { size: `${diskGb}G` };
  }

  async grow(containerId: string, diskGb: number): Promise<void> {
    const before = await this.limitOf(containerId);
    if (before === null || before >= diskGb * GIB) return;
    await this.run(['btrfs', 'qgroup', 'limit', String(diskGb * GIB), await this.subvolume(containerId)]);
    const limit = await this.limitOf(containerId);
    if (limit !== diskGb * GIB) {
      throw new Error(`the writable layer's limit is ${String(limit)} bytes after setting ${diskGb} GB`);
    }
  }

  /** The limit a container's writable layer has, in bytes (null: none). */
  private async limitOf(containerId: string): Promise<number | null> {
    const path = await this.subvolume(containerId);
    // qgroupid rfer excl max_rfer max_excl path; --raw: bytes, "none" where unlimited.
    const out = await this.run(['btrfs', 'qgroup', 'show', '-re', '--raw', path]);
    const suffix = path.slice(path.indexOf('/btrfs/subvolumes/') + 1);
    const row = out
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .find((cols) => cols[5]?.endsWith(suffix));
    if (!row) throw new Error(`btrfs shows no quota group for ${path}`);
    return row[3] === 'none' ? null : Number(row[3]);
  }

  /** The container's writable layer: the subvolume its mount id names (dockerd's layer store). */
  private async subvolume(containerId: string): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(containerId)) throw new Error(`not a container id: ${containerId}`);
    const mountId = (
      await readFile(join(this.rootDir, 'image/btrfs/layerdb/mounts', containerId, 'mount-id'), 'utf8')
    ).trim();
    if (!/^[0-9a-f]{64}$/.test(mountId)) throw new Error(`not a layer id: ${mountId}`);
    return join(this.rootDir, 'btrfs/subvolumes', mountId);
  }
}
