import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandRunner } from '@berth/platform';
import { parseArtifactRef, type SshPeer } from '@berth/contracts';

export { parseArtifactRef };
import { fetchOverSsh } from '../storage/ssh-copy';

export { fetchOverSsh, sha256File } from '../storage/ssh-copy';

/**
 * A migrating VM's overlay disk, fetched from its source host over SSH (checked against its SHA-256) into `dir`,
 * then pointed at this host's copy of its base image. Nothing is left of a fetch that failed.
 */
export async function receiveDisk(
  o: { dir: string; baseDisk: string; ref: string; peer: SshPeer; key: string; run: CommandRunner },
  onProgress: (detail: string) => Promise<void>,
): Promise<void> {
  const { artifact } = parseArtifactRef(o.ref);
  await mkdir(o.dir, { recursive: true });
  const part = join(o.dir, 'disk.qcow2.part');
  try {
    await fetchOverSsh(o.peer, o.key, artifact, part, onProgress);
    await o.run(['qemu-img', 'rebase', '-u', '-F', 'qcow2', '-b', o.baseDisk, part]);
    await rename(part, join(o.dir, 'disk.qcow2'));
  } catch (error) {
    await rm(o.dir, { recursive: true, force: true });
    throw error;
  }
}
