import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageCache } from './image-cache';

describe('ImageCache (a temporary directory and a local HTTP server)', () => {
  let dir: string;
  let server: Server;
  let base: string;
  let requests = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-cache-'));
    server = createServer((req, res) => {
      requests += 1;
      if (req.url === '/disk.qcow2') res.end('disk bytes');
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('copies a path once and lists what it holds', async () => {
    const source = join(dir, 'source.img');
    await writeFile(source, 'image v1');
    const cache = new ImageCache(join(dir, 'cache-a'));
    const first = await cache.file(source);
    await writeFile(source, 'image v2');
    expect(await cache.file(source)).toBe(first);
    expect(await readFile(first, 'utf8')).toBe('image v1');
    expect(await cache.refs()).toEqual([source]);
  });

  it('downloads a URL once, even when asked for it twice at the same time', async () => {
    const cache = new ImageCache(join(dir, 'cache-b'));
    requests = 0;
    const [a, b] = await Promise.all([cache.file(`${base}/disk.qcow2`), cache.file(`${base}/disk.qcow2`)]);
    expect(a).toBe(b);
    expect(await readFile(a, 'utf8')).toBe('disk bytes');
    expect(requests).toBe(1);
  });

  it('keeps nothing of a fetch that failed', async () => {
    const cache = new ImageCache(join(dir, 'cache-c'));
    await expect(cache.file(`${base}/missing.qcow2`)).rejects.toThrow('answered 404');
    await expect(cache.file(join(dir, 'no-such-file'))).rejects.toThrow();
    expect(await cache.refs()).toEqual([]);
    const left = await readdir(join(dir, 'cache-c'));
    for (const key of left) expect(await readdir(join(dir, 'cache-c', key))).toEqual([]);
  });
});
