import type Docker from 'dockerode';
import { extract, pack } from 'tar-stream';
import { isNotFound } from './docker-errors';

const SSH_DIR = 'root/.ssh';
const AUTHORIZED_KEYS = `${SSH_DIR}/authorized_keys`;

/**
 * Puts the instance's public keys into root's authorized_keys in a container made but not yet started (as
 * cloud-init does in a VM): the file the image has keeps its lines, each key is added once, the directory is
 * 0700 and the file 0600, owned by the container's root (Docker maps the owner when root is remapped). The
 * archive is unpacked inside the container's own filesystem, so no link in the image reaches the host's.
 */
export async function installAuthorizedKeys(container: Docker.Container, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  const lines = ((await readFileIn(container, `/${AUTHORIZED_KEYS}`)) ?? '').split('\n').filter((l) => l.trim());
  for (const key of keys) if (!lines.includes(key)) lines.push(key);
  const archive = pack();
  archive.entry({ name: SSH_DIR, type: 'directory', mode: 0o700, uid: 0, gid: 0 });
  archive.entry({ name: AUTHORIZED_KEYS, mode: 0o600, uid: 0, gid: 0 }, `${lines.join('\n')}\n`);
  archive.finalize();
  await container.putArchive(await collect(archive), { path: '/' });
}

/** A regular file's text in the container's filesystem; null when it has none there. */
async function readFileIn(container: Docker.Container, path: string): Promise<string | null> {
  let tar: NodeJS.ReadableStream;
  try {
    tar = await container.getArchive({ path });
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
  let text: string | null = null;
  const entries = extract();
  tar.pipe(entries);
  for await (const entry of entries) {
    const content = await collect(entry);
    if (text === null && entry.header.type === 'file') text = content.toString('utf8');
  }
  return text;
}

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}
