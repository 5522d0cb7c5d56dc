import type { SnapshotImage, SnapshotTarget } from '@berth/contracts';
import type { CommandRunner } from '@berth/platform';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { sha256File } from './disk-transfer';

/** The media type of a VM disk Berth keeps in the registry: an OCI artifact whose one layer is the qcow2. */
export const DISK_MEDIA_TYPE = 'application/vnd.berth.disk.qcow2';
const EMPTY_CONFIG = Buffer.from('{}');

/**
 * A VM's disk as a new image: its overlay and base flattened into one standalone qcow2 (`qemu-img convert`,
 * sharing the file with QEMU, whose guest the caller pauses meanwhile), put in the registry as the one layer of an
 * OCI artifact tagged `latest` in `target.repository`; the blob's URL is the image's ref, which any host's image
 * cache fetches. The flattened file is removed either way.
 */
export async function exportDisk(
  run: CommandRunner,
  disk: string,
  scratch: string,
  target: SnapshotTarget,
  paused: (work: () => Promise<void>) => Promise<void>,
  onStep: (step: string) => Promise<void>,
): Promise<SnapshotImage> {
  try {
    await paused(async () => {
      await run(['qemu-img', 'convert', '-U', '-q', '-O', 'qcow2', disk, scratch], { timeoutMs: 3_600_000 });
    });
    await onStep('upload');
    const { sha256, bytes } = await sha256File(scratch);
    const ref = await pushDiskArtifact(target.repository, scratch, `sha256:${sha256}`, bytes);
    return { ref, bytes };
  } finally {
    await rm(scratch, { force: true });
  }
}

/** Uploads the file as a blob, then the artifact's empty config and manifest; returns the blob's URL. */
export async function pushDiskArtifact(
  repository: string,
  file: string,
  digest: string,
  bytes: number,
): Promise<string> {
  const slash = repository.indexOf('/');
  if (slash < 0) throw new Error(`not a registry repository: ${repository}`);
  const base = `http://${repository.slice(0, slash)}/v2/${repository.slice(slash + 1)}`;
  await putBlob(base, () => Readable.toWeb(createReadStream(file)) as ReadableStream, digest, bytes);
  const configDigest = `sha256:${createHash('sha256').update(EMPTY_CONFIG).digest('hex')}`;
  await putBlob(base, () => EMPTY_CONFIG, configDigest, EMPTY_CONFIG.length);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: configDigest, size: EMPTY_CONFIG.length },
    layers: [{ mediaType: DISK_MEDIA_TYPE, digest, size: bytes }],
  };
  const res = await fetch(`${base}/manifests/latest`, {
    method: 'PUT',
    headers: { 'content-type': manifest.mediaType },
    body: JSON.stringify(manifest),
    signal: AbortSignal.timeout(30_000),
  });
  if (res.status !== 201)
    throw new Error(`the registry refused the image's manifest (${res.status}): ${await res.text()}`);
  return `${base}/blobs/${digest}`;
}

/** A monolithic blob upload (distribution's POST then PUT with the digest), checked by the registry against it. */
async function putBlob(
  base: string,
  body: () => ReadableStream | Buffer,
  digest: string,
  bytes: number,
): Promise<void> {
  const start = await fetch(`${base}/blobs/uploads/`, { method: 'POST', signal: AbortSignal.timeout(30_000) });
  const location = start.headers.get('location');
  if (start.status !== 202 || !location) throw new Error(`the registry refused an upload (${start.status})`);
  const url = new URL(location, base);
  url.searchParams.set('digest', digest);
  const res = await fetch(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes) },
    body: body(),
    duplex: 'half',
  });
  if (res.status !== 201)
    throw new Error(`the registry refused the blob ${digest} (${res.status}): ${await res.text()}`);
}
