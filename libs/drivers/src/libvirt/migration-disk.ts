import type { DiskArtifact } from '@berth/contracts';
import type * as LibvirtModule from '@unraid/libvirt';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { receiveDisk, sha256File } from './disk-transfer';

/** Left in an instance's directory by a migration's fetch: spawn starts from the disk it brought, not a new one. */
const RECEIVED = 'received';

/**
 * Cold migration, source side, once the guest is off: checksums its overlay disk and undefines the domain while
 * keeping its directory; the definition as it stands now (live changes included) is what a revert defines again.
 */
export async function exportForMigration(domain: LibvirtModule.Domain, dir: string): Promise<DiskArtifact> {
  const path = join(dir, 'disk.qcow2');
  const { sha256, bytes } = await sha256File(path);
  await writeFile(join(dir, 'domain.xml'), await domain.getXMLDesc());
  await domain.undefine();
  return { path, sha256, bytes };
}

/** Cold migration, target side: the overlay copied from the source (receiveDisk), marked for spawn to start from. */
export async function fetchForMigration(
  options: Parameters<typeof receiveDisk>[0],
  onProgress: (detail: string) => Promise<void>,
): Promise<void> {
  await receiveDisk(options, onProgress);
  await writeFile(join(options.dir, RECEIVED), `${options.ref}\n`);
}

export function wasReceived(dir: string): Promise<boolean> {
  return readFile(join(dir, RECEIVED), 'utf8').then(
    () => true,
    () => false,
  );
}

export function forgetReceived(dir: string): Promise<void> {
  return rm(join(dir, RECEIVED), { force: true });
}
