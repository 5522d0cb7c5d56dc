import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestApi } from '../api-harness';

// The API serves the built web console under `/` and keeps every API path its own.

describe('the web console as the API serves it (real PostgreSQL)', () => {
  let api: TestApi;
  let dir: string;
  const page = '<!doctype html><title>Berth</title><script type="module" src="/assets/index-abc.js"></script>';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-web-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), page);
    await writeFile(join(dir, 'assets/index-abc.js'), 'console.log("berth")');
    await writeFile(join(dir, 'assets/index-abc.js.map'), '{}');
    api = await TestApi.start({ env: { BERTH_WEB_DIR: dir } });
  });
  afterAll(async () => {
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers its page at / and at every path the console routes, never cached, with a strict policy', async () => {
    for (const path of ['/', '/instances', '/instances/0d9c7c52-5a5e-4bc5-9a0d-3b0e3d3f2a11', '/login?next=x']) {
      const res = await api.call('GET', path, undefined, {});
      expect({ path, status: res.status, body: res.body }).toEqual({ path, status: 200, body: page });
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('answers its assets by content name, cached for good and revalidated by ETag; no source maps', async () => {
    const res = await api.call('GET', '/assets/index-abc.js', undefined, {});
    expect(res).toMatchObject({ status: 200, body: 'console.log("berth")' });
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const again = await api.call('GET', '/assets/index-abc.js', undefined, {
      'if-none-match': String(res.headers.etag),
    });
    expect(again.status).toBe(304);
    for (const path of ['/assets/index-abc.js.map', '/assets/missing.js']) {
      expect({ path, status: (await api.call('GET', path, undefined, {})).status }).toEqual({ path, status: 404 });
    }
  });

  it("keeps the API's answers: an unknown API path is the API's JSON 404, a route without a token its 401", async () => {
    for (const path of ['/v1/nothing-here', '/v1', '/compute/v2.1/nothing', '/identity/nothing', '/metricsx']) {
      const res = await api.call('GET', path, undefined, {});
      expect({ path, status: res.status, type: res.headers['content-type'] }).toEqual({
        path,
        status: path === '/metricsx' ? 200 : 404,
        type: path === '/metricsx' ? 'text/html; charset=utf-8' : expect.stringMatching(/^application\/json/),
      });
    }
    expect((await api.call('GET', '/v1/instances', undefined, {})).status).toBe(401);
    expect((await api.call('GET', '/healthz', undefined, {})).status).toBe(200);
  });
});
