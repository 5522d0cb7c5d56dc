import { readFile, realpath, stat } from 'node:fs/promises';
import { mountOf, parseMountinfo } from './mountinfo';

/** The whole-disk block device behind a path, which IO throttles apply to. */
export interface BlockDevice {
  /** "major:minor", as cgroup throttle files name devices. */
  id: string;
  /** /dev/<name>, as Docker's create options name devices. */
  path: string;
}

/**
 * Finds the disk that holds `path`: the device of the filesystem mounted there (or of its source,
 * for filesystems with an anonymous device), then, for a partition, the disk it belongs to, since
 * the kernel throttles whole disks.
 */
export async function blockDeviceOf(path: string): Promise<BlockDevice> {
  const resolved = await realpath(path);
  const mount = mountOf(parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8')), resolved);
  if (!mount) throw new Error(`no mount holds ${resolved}`);
  let id = mount.device;
  if (id.startsWith('0:')) {
    if (!mount.source.startsWith('/dev/')) {
      throw new Error(`${resolved} is on ${mount.fsType} (${mount.source}), which has no block device to throttle`);
    }
    const rdev = (await stat(mount.source)).rdev;
    id = `${Math.floor(rdev / 256) & 0xfff}:${(rdev & 0xff) | ((rdev >> 12) & 0xfff00)}`;
  }
  const sys = await realpath(`/sys/dev/block/${id}`);
  const isPartition = await stat(`${sys}/partition`).then(
    () => true,
    () => false,
  );
  const disk = isPartition ? `${sys}/..` : sys;
  const diskId = (await readFile(`${disk}/dev`, 'utf8')).trim();
  const name = /^DEVNAME=(.+)$/m.exec(await readFile(`${disk}/uevent`, 'utf8'))?.[1];
  if (!name) throw new Error(`the kernel names no device for ${diskId}`);
  return { id: diskId, path: `/dev/${name}` };
}
