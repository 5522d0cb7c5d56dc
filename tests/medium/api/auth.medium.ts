import pino from 'pino';
import { TestApi } from '../api-harness';

describe('authentication (real PostgreSQL)', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await TestApi.start();
  });
  afterAll(() => api.stop());

  it('lets the bootstrap admin in', async () => {
    const res = await api.call('GET', '/v1/flavors');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [] });
  });

  it.each([
    ['no header', {}],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['the wrong scheme', { authorization: 'Basic YWRtaW46YWRtaW4=' }],
    ['a malformed token', { authorization: 'Bearer not a token' }],
    ['a too long token', { authorization: `Bearer ${'a'.repeat(200)}` }],
    ['a token with bad characters', { authorization: `Bearer ${'a'.repeat(40)}$;` }],
    ['an unknown token', { authorization: `Bearer berth_${'x'.repeat(43)}` }],
  ])('answers 401 to %s, with no detail about the token', async (_case, headers) => {
    const res = await api.call('GET', '/v1/instances', undefined, headers);
    expect(res.status).toBe(401);
    expect(res.body.error).toEqual({
      code: 'unauthenticated',
      message: 'a valid bearer token is required',
      details: [],
    });
  });

  it('refuses a revoked or expired token on the next request', async () => {
    await api.dataSource.query(`UPDATE tokens SET expires_at = now() - interval '1 second'`);
    expect((await api.call('GET', '/v1/flavors')).status).toBe(401);
    await api.dataSource.query(`UPDATE tokens SET expires_at = NULL, revoked_at = now()`);
    expect((await api.call('GET', '/v1/flavors')).status).toBe(401);
    await api.dataSource.query(`UPDATE tokens SET revoked_at = NULL`);
    expect((await api.call('GET', '/v1/flavors')).status).toBe(200);
  });

  it('stores tokens hashed, never in clear', async () => {
    const [row] = await api.sql<{ h: string }>(`SELECT encode(secret_hash, 'escape') AS h FROM tokens`);
    expect(row?.h).not.toContain(api.adminToken);
  });

  it('serves /healthz without a token', async () => {
    expect(await api.call('GET', '/healthz', undefined, {})).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('serves the OpenAPI document generated from the code at /docs', async () => {
    const res = await api.call('GET', '/docs', undefined, {});
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/instances',
        '/v1/instances/{id}',
        '/v1/instances/{id}/actions',
        '/v1/operations/{id}',
      ]),
    );
  });

  it('echoes a caller request id, or makes one, and puts it in error bodies', async () => {
    const given = await api.call('GET', '/v1/nothing', undefined, {
      authorization: `Bearer ${api.adminToken}`,
      'x-request-id': 'trace-0001',
    });
    expect(given.headers['x-request-id']).toBe('trace-0001');
    expect(given.body.requestId).toBe('trace-0001');
    const made = await api.call('GET', '/v1/flavors');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers an unknown route with a 404 error body', async () => {
    const res = await api.call('GET', '/v1/nothing');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });

  it('takes an empty body sent as JSON as no body (as clients send on DELETE and GET), and still refuses bad JSON', async () => {
    const headers = { authorization: `Bearer ${api.adminToken}`, 'content-type': 'application/json' };
    const flavor = (await api.call('POST', '/v1/flavors', { name: 'empty-body', vcpus: 1, ramMb: 64, diskGb: 1 })).body;
    expect((await api.request({ method: 'GET', url: '/v1/flavors', headers, payload: '' })).statusCode).toBe(200);
    const gone = await api.request({ method: 'DELETE', url: `/v1/flavors/${flavor.id}`, headers, payload: '' });
    expect(gone.statusCode).toBe(204);
    // A create with no body says so, naming the body; broken JSON and a __proto__ key are refused as before.
    const none = await api.request({ method: 'POST', url: '/v1/flavors', headers, payload: ' ' });
    expect(none.statusCode).toBe(400);
    expect(JSON.parse(none.body)).toMatchObject({ error: { details: [{ field: 'body' }] } });
    expect((await api.request({ method: 'POST', url: '/v1/flavors', headers, payload: '{"name":' })).statusCode).toBe(
      400,
    );
    const poisoned = await api.request({
      method: 'POST',
      url: '/v1/flavors',
      headers,
      payload: '{"__proto__":{"x":1}}',
    });
    expect(poisoned.statusCode).toBe(400);
  });
});

describe('failed authentication in the log', () => {
  it('is logged with its reason and never with the token', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const api = await TestApi.start({ log });
    try {
      const secret = `berth_${'s'.repeat(43)}`;
      await api.call('GET', '/v1/instances', undefined, { authorization: `Bearer ${secret}` });
      await api.call('GET', '/v1/instances', undefined, { authorization: `Bearer ${api.adminToken}x` });
      const failures = lines.filter((l) => l.includes('authentication failed'));
      expect(failures).toHaveLength(2);
      expect(failures.every((l) => l.includes('unknown or revoked token'))).toBe(true);
      expect(lines.filter((l) => l.includes(secret) || l.includes(api.adminToken))).toEqual([]);
    } finally {
      await api.stop();
    }
  });
});
