import { TestApi } from '../api-harness';

const PASSWORD = 'correct horse battery';

/**
 * The request limits (real PostgreSQL and Redis): per token, per source address, a stricter one on failed
 * authentications per address, and a cap on open event streams per token; each past its limit answers 429 with
 * Retry-After and lets everyone else through. Each test calls from its own address (inject's remoteAddress).
 */
describe('request limits (real Redis)', () => {
  let api: TestApi;
  let project: string;

  beforeAll(async () => {
    api = await TestApi.start({
      env: {
        BERTH_RATE_TOKEN_PER_MIN: '30',
        BERTH_RATE_ADDRESS_PER_MIN: '60',
        BERTH_RATE_AUTH_FAILURES: '5',
        BERTH_RATE_AUTH_WINDOW_SEC: '600',
        BERTH_LOGIN_MAX_FAILURES: '100',
        BERTH_STREAMS_PER_TOKEN: '2',
        BERTH_TRUSTED_PROXIES: '10.0.9.1',
      },
    });
    project = (await api.call('POST', '/v1/projects', { name: 'shop' })).body.id;
    expect((await api.call('POST', '/v1/users', { name: 'alice', password: PASSWORD })).status).toBe(201);
    expect((await api.call('PUT', `/v1/projects/${project}/members/alice`, { role: 'member' })).status).toBe(200);
  });
  afterAll(() => api.stop());

  /** A fresh member token of alice's in the shop project. */
  async function memberToken(): Promise<string> {
    const res = await api.call('POST', '/v1/tokens', { user: 'alice', project, role: 'member' });
    expect(res.status).toBe(201);
    return res.body.token;
  }

  const from = (remoteAddress: string, token: string | null, url = '/v1/flavors', forwardedFor?: string) =>
    api.app.inject({
      method: 'GET',
      url,
      remoteAddress,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
      },
    });

  const login = (remoteAddress: string, password: string) =>
    api.app.inject({
      method: 'POST',
      url: '/v1/auth/tokens',
      remoteAddress,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ user: 'alice', password, project: 'shop' }),
    });

  /** Makes `n` requests one after another; answers their statuses. */
  async function statuses(n: number, call: (i: number) => Promise<{ statusCode: number }>): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < n; i += 1) out.push((await call(i)).statusCode);
    return out;
  }

  function expectTooMany(res: { statusCode: number; headers: Record<string, unknown>; body: string }, says: RegExp) {
    expect(res.statusCode).toBe(429);
    const wait = Number(res.headers['retry-after']);
    expect(Number.isInteger(wait)).toBe(true);
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(res.body).error).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(says) });
  }

  it("answers 429 with Retry-After past a token's limit, and keeps serving its other tokens", async () => {
    const token = await memberToken();
    expect(await statuses(30, () => from('10.0.1.1', token))).toEqual(Array(30).fill(200));
    expectTooMany(await from('10.0.1.1', token), /this token/);
    expect((await from('10.0.1.1', await memberToken())).statusCode).toBe(200);
  });

  it("answers 429 past an address's limit, whatever the token, and keeps serving other addresses", async () => {
    const tokens = [await memberToken(), await memberToken(), await memberToken()];
    const answers = await statuses(60, (i) => from('10.0.2.1', tokens[i % 3] ?? null));
    expect(answers).toEqual(Array(60).fill(200));
    expectTooMany(await from('10.0.2.1', await memberToken()), /this address/);
    expect((await from('10.0.2.2', tokens[0] ?? null)).statusCode).toBe(200);
  });

  it('refuses every authenticating request from an address past its failed authentications, not from others', async () => {
    const good = await memberToken();
    const bad = 'x'.repeat(43);
    expect(await statuses(5, () => from('10.0.3.1', bad))).toEqual(Array(5).fill(401));
    // The address is spent: even a good token from there waits, and bad ones never reach the database.
    expectTooMany(await from('10.0.3.1', good), /failed authentications/);
    expectTooMany(await from('10.0.3.1', bad), /failed authentications/);
    expect((await from('10.0.3.2', good)).statusCode).toBe(200);
    // A request without credentials is not a failed authentication.
    expect(await statuses(8, () => from('10.0.3.3', null))).toEqual(Array(8).fill(401));
    expect((await from('10.0.3.3', good)).statusCode).toBe(200);
  });

  it('counts failed password logins against the address too', async () => {
    expect(await statuses(5, () => login('10.0.4.1', 'wrong horse battery'))).toEqual(Array(5).fill(401));
    expectTooMany(await login('10.0.4.1', PASSWORD), /failed authentications/);
    expect((await login('10.0.4.2', PASSWORD)).statusCode).toBe(201);
  });

  it("counts by the client's address behind a trusted load balancer, and by the peer's otherwise", async () => {
    const good = await memberToken();
    const bad = 'y'.repeat(43);
    expect(await statuses(5, () => from('10.0.9.1', bad, '/v1/flavors', '10.0.9.50'))).toEqual(Array(5).fill(401));
    expectTooMany(await from('10.0.9.1', good, '/v1/flavors', '10.0.9.50'), /failed authentications/);
    expect((await from('10.0.9.1', good, '/v1/flavors', '10.0.9.51')).statusCode).toBe(200);
    // An untrusted peer naming another address in the header is counted as itself.
    expect(await statuses(5, () => from('10.0.8.1', bad, '/v1/flavors', '10.0.8.99'))).toEqual(Array(5).fill(401));
    expectTooMany(await from('10.0.8.1', good, '/v1/flavors', '10.0.8.50'), /failed authentications/);
  });

  it('never limits the health probes', async () => {
    expect(await statuses(70, () => from('10.0.5.1', null, '/healthz'))).toEqual(Array(70).fill(200));
  });

  it('caps the event streams one token holds open; another token, or a closed stream, makes room', async () => {
    const base = await api.baseUrl();
    const token = await memberToken();
    const open = (t: string) => {
      const abort = new AbortController();
      const res = fetch(`${base}/v1/events`, { headers: { authorization: `Bearer ${t}` }, signal: abort.signal });
      return { abort, res };
    };
    const first = open(token);
    const second = open(token);
    expect([(await first.res).status, (await second.res).status]).toEqual([200, 200]);
    const third = await fetch(`${base}/v1/events`, { headers: { authorization: `Bearer ${token}` } });
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('5');
    expect(((await third.json()) as { error: { message: string } }).error.message).toMatch(/2 open event streams/);
    const other = open(await memberToken());
    expect((await other.res).status).toBe(200);

    first.abort.abort();
    let again: Response | null = null;
    for (let i = 0; i < 50 && again?.status !== 200; i += 1) {
      again?.body?.cancel().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
      again = await fetch(`${base}/v1/events`, { headers: { authorization: `Bearer ${token}` } });
    }
    expect(again?.status).toBe(200);
    await again?.body?.cancel();
    second.abort.abort();
    other.abort.abort();
  });
});

describe('request limits with BERTH_RATE_EXEMPT_ADMIN', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await TestApi.start({ env: { BERTH_RATE_TOKEN_PER_MIN: '5', BERTH_RATE_EXEMPT_ADMIN: 'true' } });
  });
  afterAll(() => api.stop());

  it("spares the cloud admin's tokens and no one else's", async () => {
    const project = (await api.call('POST', '/v1/projects', { name: 'shop' })).body.id;
    const user = (await api.call('POST', '/v1/users', { name: 'bob' })).body.id;
    const member = (await api.call('POST', '/v1/tokens', { user, project, role: 'member' })).body.token;
    const get = (token: string) => api.call('GET', '/v1/flavors', undefined, { authorization: `Bearer ${token}` });
    for (let i = 0; i < 10; i += 1) expect((await get(api.adminToken)).status).toBe(200);
    for (let i = 0; i < 5; i += 1) expect((await get(member)).status).toBe(200);
    expect((await get(member)).status).toBe(429);
  });
});
