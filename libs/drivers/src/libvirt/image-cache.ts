import type { InstanceSpec } from '@berth/contracts';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * This host's copies of VM image files (disks, kernels, initrds), each fetched once from its path or
 * URL into a directory named by the hash of the reference, and renamed into place only when whole,
 * so a failed or interrupted fetch is never mistaken for a cached file.
 */
export class ImageCache {
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(private readonly dir: string) {}

  /** The local copy of `ref`, fetched now if this host has none. */
  file(ref: string): Promise<string> {
    const key = createHash('sha256').update(ref).digest('hex').slice(0, 24);
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const fetching = this.fetch(ref, key).finally(() => this.inflight.delete(key));
    this.inflight.set(key, fetching);
    return fetching;
  }

  /** The references this host holds. */
  async refs(): Promise<string[]> {
    const keys = await readdir(this.dir).catch(() => [] as string[]);
    const refs = await Promise.all(keys.map((k) => readFile(join(this.dir, k, 'ref'), 'utf8').catch(() => null)));
    return refs.filter((r): r is string => r !== null);
  }

  private async fetch(ref: string, key: string): Promise<string> {
    const dir = join(this.dir, key);
    const dest = join(dir, 'file');
    const cached = await access(join(dir, 'ref')).then(
      () => true,
      () => false,
    );
    if (cached) return dest;
    await mkdir(dir, { recursive: true });
    const part = join(dir, `part-${randomBytes(4).toString('hex')}`);
    try {
      if (/^https?:\/\//.test(ref)) {
        const res = await fetch(ref);
        if (!res.ok || !res.body) throw new Error(`fetching ${ref} answered ${res.status}`);
        await pipeline(Readable.fromWeb(res.body), createWriteStream(part));
      } else {
        await copyFile(ref, part);
      }
      await rename(part, dest);
      await writeFile(join(dir, 'ref'), ref);
      return dest;
    } catch (error) {
      await rm(part, { force: true });
      throw error;
    }
  }
}

/** A VM image's files on this host (fetched into the cache once): its disk, and a kernel and initrd to boot directly. */
export async function imageFiles(
  cache: ImageCache,
  spec: InstanceSpec,
): Promise<{ disk: string; kernel: string | null; initrd: string | null }> {
  const cached = (ref: string | null | undefined) => (ref ? cache.file(ref) : Promise.resolve(null));
  const [disk, kernel, initrd] = await Promise.all([
    cache.file(spec.imageRef),
    cached(spec.boot?.kernelRef),
    cached(spec.boot?.initrdRef),
  ]);
  return { disk, kernel, initrd };
}
