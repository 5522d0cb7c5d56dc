import pino from 'pino';
import { Writable } from 'node:stream';
import { TestApi } from '../api-harness';

const PASSWORD = 'correct horse battery';

/**
 * Password logins and project membership (real PostgreSQL): tokens that carry the user's role in the project and
 * expire, one refusal for every wrong part, a lock-out after repeated failures, and members managed by the cloud
 * admin or the project's own project-admin.
 */
describe('password login and members (real PostgreSQL)', () => {
  let api: TestApi;
  const logged: string[] = [];
  let shop: { id: string; name: string };
  let other: { id: string; name: string };
  let alice: { id: string; name: string };

  const login = (body: unknown) => api.call('POST', '/v1/auth/tokens', body, {});
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (logged.push(chunk.toString()), done()) });
    api = await TestApi.start({
      log: pino({ level: 'debug' }, sink),
      env: { BERTH_LOGIN_MAX_FAILURES: '3', BERTH_LOGIN_LOCKOUT_SEC: '600', BERTH_TOKEN_TTL_SEC: '3600' },
    });
    shop = (await api.call('POST', '/v1/projects', { name: 'shop' })).body;
    other = (await api.call('POST', '/v1/projects', { name: 'other' })).body;
    const made = await api.call('POST', '/v1/users', { name: 'alice', password: PASSWORD });
    expect(made.status).toBe(201);
    expect(made.body).toEqual({ id: expect.any(String), name: 'alice', createdAt: expect.any(String) });
    alice = made.body;
    const member = await api.call('PUT', `/v1/projects/${shop.id}/members/alice`, { role: 'member' });
    expect(member).toMatchObject({ status: 200, body: { userName: 'alice', role: 'member', projectId: shop.id } });
  });
  afterAll(() => api.stop());

  it("answers a token with the user's role in the project, expiring after the configured time, that works", async () => {
    const res = await login({ user: 'alice', password: PASSWORD, project: 'shop' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ userId: alice.id, projectId: shop.id, role: 'member', name: 'login' });
    const ttl = (Date.parse(res.body.expiresAt) - Date.now()) / 1000;
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
    expect((await api.call('GET', '/v1/instances', undefined, as(res.body.token))).status).toBe(200);
    // By the project's id and the user's id too.
    expect((await login({ user: alice.id, password: PASSWORD, project: shop.id })).status).toBe(201);
  });

  it('refuses a wrong password, an unknown user or project, and no role in the project with one same 401', async () => {
    const answers = await Promise.all([
      login({ user: 'alice', password: 'wrong horse battery', project: 'shop' }),
      login({ user: 'nobody', password: PASSWORD, project: 'shop' }),
      login({ user: 'alice', password: PASSWORD, project: 'nowhere' }),
      login({ user: 'alice', password: PASSWORD, project: 'other' }),
    ]);
    const bodies = answers.map((a) => ({ status: a.status, error: a.body.error }));
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(bodies[0]).toEqual({
      status: 401,
      error: { code: 'unauthenticated', message: expect.stringContaining('not accepted'), details: [] },
    });
    await api.sql('UPDATE users SET failed_logins = 0 WHERE id = $1', [alice.id]);
  });

  it('switches project with a token alone: lists the user’s projects, rescopes into one it holds a role in only', async () => {
    const first = (await login({ user: 'alice', password: PASSWORD, project: 'shop' })).body;
    const bank = (await api.call('POST', '/v1/projects', { name: 'bank' })).body;
    await api.call('PUT', `/v1/projects/${bank.id}/members/alice`, { role: 'reader' });
    const mine = await api.call('GET', '/v1/auth/projects', undefined, as(first.token));
    expect(mine).toMatchObject({
      status: 200,
      body: {
        items: [
          { id: bank.id, name: 'bank', role: 'reader' },
          { id: shop.id, name: 'shop', role: 'member' },
        ],
      },
    });
    const switched = await api.call('POST', '/v1/auth/rescope', { project: 'bank' }, as(first.token));
    expect(switched).toMatchObject({ status: 201, body: { userId: alice.id, projectId: bank.id, role: 'reader' } });
    // It ends no later than the token it came from, and acts in the new project with the role held there.
    expect(Date.parse(switched.body.expiresAt)).toBeLessThanOrEqual(Date.parse(first.expiresAt));
    const asBank = as(switched.body.token);
    expect((await api.call('GET', '/v1/projects', undefined, asBank)).body.items.map((p: any) => p.name)).toEqual([
      'bank',
    ]);
    expect((await api.call('POST', '/v1/instances', {}, asBank)).status).toBe(403);
    // A project without a role there, one that does not exist, the token's own: refused, naming the field.
    for (const [project, status] of [
      ['other', 404],
      ['nowhere', 404],
      ['bank', 409],
    ] as const) {
      const refused = await api.call('POST', '/v1/auth/rescope', { project }, asBank);
      expect({ project, status: refused.status, field: refused.body.error.details[0]?.field }).toEqual({
        project,
        status,
        field: 'project',
      });
    }
    const noBody = await api.call('POST', '/v1/auth/rescope', {}, asBank);
    expect(noBody.status).toBe(400);
    expect([...new Set(noBody.body.error.details.map((d: any) => d.field))]).toEqual(['project']);
  });

  it('names the field and the rule of a bad login or a bad password, and stores nothing for it', async () => {
    const missing = await login({ user: 'alice', project: 'shop' });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.map((d: { field: string }) => d.field)).toContain('password');
    const short = await api.call('POST', '/v1/users', { name: 'bob', password: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.error.details).toEqual([{ field: 'password', rule: 'length', message: expect.any(String) }]);
    expect(await api.sql(`SELECT 1 FROM users WHERE name = 'bob'`)).toEqual([]);
  });

  it('locks a user out after repeated wrong passwords, even from the right one, until an admin sets a new one', async () => {
    await api.call('POST', '/v1/users', { name: 'carol', password: PASSWORD });
    await api.call('PUT', `/v1/projects/${shop.id}/members/carol`, { role: 'reader' });
    for (let i = 0; i < 3; i += 1) {
      expect((await login({ user: 'carol', password: `guess number ${i}`, project: 'shop' })).status).toBe(401);
    }
    expect((await login({ user: 'carol', password: PASSWORD, project: 'shop' })).status).toBe(401);
    const [carol] = await api.sql<{ id: string; lockedUntil: Date }>(
      `SELECT id, locked_until AS "lockedUntil" FROM users WHERE name = 'carol'`,
    );
    expect(carol!.lockedUntil.getTime()).toBeGreaterThan(Date.now() + 500_000);
    // The lock-out runs out by itself...
    await api.sql(`UPDATE users SET locked_until = now() - interval '1 second' WHERE name = 'carol'`);
    expect((await login({ user: 'carol', password: PASSWORD, project: 'shop' })).status).toBe(201);
    // ...or a cloud admin ends it with a new password.
    for (let i = 0; i < 3; i += 1) await login({ user: 'carol', password: `guess again ${i}`, project: 'shop' });
    const reset = await api.call('PUT', `/v1/users/${carol!.id}/password`, { password: 'a brand new password' });
    expect(reset.status).toBe(204);
    expect((await login({ user: 'carol', password: 'a brand new password', project: 'shop' })).status).toBe(201);
  });

  it('lets a user change its own password only with its current one, and never another user’s', async () => {
    const token = (await login({ user: 'alice', password: PASSWORD, project: 'shop' })).body.token;
    const url = `/v1/users/${alice.id}/password`;
    const without = await api.call('PUT', url, { password: 'another good password' }, as(token));
    expect(without.body.error.details).toEqual([
      expect.objectContaining({ field: 'currentPassword', rule: 'required' }),
    ]);
    const wrong = await api.call('PUT', url, { password: 'another good password', currentPassword: 'nope' }, as(token));
    expect(wrong.body.error.details).toEqual([expect.objectContaining({ field: 'currentPassword', rule: 'matches' })]);
    const [carol] = await api.sql<{ id: string }>(`SELECT id FROM users WHERE name = 'carol'`);
    const theirs = await api.call(
      'PUT',
      `/v1/users/${carol!.id}/password`,
      { password: 'taking it over now' },
      as(token),
    );
    expect(theirs.status).toBe(404);
    const changed = await api.call(
      'PUT',
      url,
      { password: 'another good password', currentPassword: PASSWORD },
      as(token),
    );
    expect(changed.status).toBe(204);
    expect((await login({ user: 'alice', password: PASSWORD, project: 'shop' })).status).toBe(401);
    expect((await login({ user: 'alice', password: 'another good password', project: 'shop' })).status).toBe(201);
    await api.call('PUT', url, { password: PASSWORD });
  });

  it('stores passwords as Argon2id hashes, and never shows, records or logs them', async () => {
    const [row] = await api.sql<{ hash: string }>(`SELECT password_hash AS hash FROM users WHERE name = 'alice'`);
    expect(row?.hash).toMatch(/^\$argon2id\$/);
    const users = await api.call('GET', '/v1/users');
    expect(JSON.stringify(users.body)).not.toMatch(/argon2|password/i);
    const operations = await api.sql<{ all: string }>(
      `SELECT string_agg(row_to_json(o)::text, ' ') AS all FROM operations o`,
    );
    const events = await api.sql<{ all: string }>(`SELECT string_agg(row_to_json(e)::text, ' ') AS all FROM events e`);
    for (const text of [operations[0]?.all ?? '', events[0]?.all ?? '', logged.join('')]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain('argon2id');
    }
  });

  it("lets a project-admin manage its own project's members, up to its own role, and no other project's", async () => {
    await api.call('POST', '/v1/users', { name: 'dave', password: PASSWORD });
    await api.call('PUT', `/v1/projects/${shop.id}/members/dave`, { role: 'project-admin' });
    const dave = (await login({ user: 'dave', password: PASSWORD, project: 'shop' })).body;
    expect(dave.role).toBe('project-admin');
    await api.call('POST', '/v1/users', { name: 'erin', password: PASSWORD });
    const added = await api.call('PUT', `/v1/projects/${shop.id}/members/erin`, { role: 'member' }, as(dave.token));
    expect(added).toMatchObject({ status: 200, body: { userName: 'erin', role: 'member' } });
    const listed = await api.call('GET', `/v1/projects/${shop.id}/members`, undefined, as(dave.token));
    expect(listed.body.items.map((m: { userName: string }) => m.userName)).toEqual(['alice', 'carol', 'dave', 'erin']);
    expect(
      (await api.call('PUT', `/v1/projects/${other.id}/members/erin`, { role: 'member' }, as(dave.token))).status,
    ).toBe(404);
    expect((await api.call('GET', `/v1/projects/${other.id}/members`, undefined, as(dave.token))).status).toBe(404);
    expect(
      (await api.call('PUT', `/v1/projects/${shop.id}/members/erin`, { role: 'admin' }, as(dave.token))).status,
    ).toBe(403);
    // A project-admin is no cloud admin: the cloud's own resources stay closed.
    expect((await api.call('POST', '/v1/projects', { name: 'mine' }, as(dave.token))).status).toBe(403);
    expect((await api.call('GET', '/v1/hosts', undefined, as(dave.token))).status).toBe(403);
    const member = (await login({ user: 'alice', password: PASSWORD, project: 'shop' })).body;
    expect((await api.call('GET', `/v1/projects/${shop.id}/members`, undefined, as(member.token))).status).toBe(403);
  });

  it('gives admin only in the admin project, and takes tokens away with a membership or a lower role', async () => {
    const outside = await api.call('PUT', `/v1/projects/${shop.id}/members/erin`, { role: 'admin' });
    expect(outside.status).toBe(400);
    expect(outside.body.error.details).toEqual([expect.objectContaining({ field: 'role', rule: 'isIn' })]);
    const erin = (await login({ user: 'erin', password: PASSWORD, project: 'shop' })).body;
    expect((await api.call('GET', '/v1/instances', undefined, as(erin.token))).status).toBe(200);
    await api.call('PUT', `/v1/projects/${shop.id}/members/erin`, { role: 'reader' });
    expect((await api.call('GET', '/v1/instances', undefined, as(erin.token))).status).toBe(401);
    const reader = (await login({ user: 'erin', password: PASSWORD, project: 'shop' })).body;
    expect(reader.role).toBe('reader');
    expect((await api.call('DELETE', `/v1/projects/${shop.id}/members/erin`)).status).toBe(204);
    expect((await api.call('GET', '/v1/instances', undefined, as(reader.token))).status).toBe(401);
    expect((await login({ user: 'erin', password: PASSWORD, project: 'shop' })).status).toBe(401);
    expect((await api.call('DELETE', `/v1/projects/${shop.id}/members/erin`)).status).toBe(404);
  });

  it('holds tokens to their minter: a reader mints nothing and revokes only itself; a member no higher, no later', async () => {
    await api.call('POST', '/v1/users', { name: 'frank', password: PASSWORD });
    await api.call('PUT', `/v1/projects/${shop.id}/members/frank`, { role: 'member' });
    const member = (await login({ user: 'frank', password: PASSWORD, project: 'shop' })).body;
    const mint = (token: string, body: Record<string, unknown>) =>
      api.call('POST', '/v1/tokens', { user: 'frank', project: 'shop', role: 'reader', ...body }, as(token));
    // A member's token ends no later than its own: left out, it takes the member's own expiry.
    const reader = await mint(member.token, {});
    expect(reader.status).toBe(201);
    expect(reader.body.expiresAt).toBe(member.expiresAt);
    const later = await mint(member.token, { expiresAt: new Date(Date.now() + 86_400_000).toISOString() });
    expect(later.body.error.details).toEqual([expect.objectContaining({ field: 'expiresAt', rule: 'notAfterOwn' })]);
    expect((await mint(member.token, { role: 'project-admin' })).status).toBe(403);
    expect((await mint(member.token, { user: 'alice' })).status).toBe(403);
    expect((await mint(member.token, { project: 'other' })).status).toBe(403);
    // A reader mints nothing, and revokes no token but its own.
    expect((await mint(reader.body.token, {})).status).toBe(403);
    const revokeMember = await api.call('DELETE', `/v1/tokens/${member.id}`, undefined, as(reader.body.token));
    expect(revokeMember.status).toBe(403);
    expect((await api.call('GET', '/v1/instances', undefined, as(member.token))).status).toBe(200);
    expect((await api.call('DELETE', `/v1/tokens/${reader.body.id}`, undefined, as(reader.body.token))).status).toBe(
      204,
    );
    expect((await api.call('GET', '/v1/instances', undefined, as(reader.body.token))).status).toBe(401);
    // A member revokes no token above its own role, even its own user's; nor anyone else's (404).
    await api.call('PUT', `/v1/projects/${shop.id}/members/frank`, { role: 'project-admin' });
    const high = (await login({ user: 'frank', password: PASSWORD, project: 'shop' })).body;
    const lower = await mint(high.token, { role: 'member' });
    expect((await api.call('DELETE', `/v1/tokens/${high.id}`, undefined, as(lower.body.token))).status).toBe(403);
    const alices = (await login({ user: 'alice', password: PASSWORD, project: 'shop' })).body;
    expect((await api.call('DELETE', `/v1/tokens/${alices.id}`, undefined, as(lower.body.token))).status).toBe(404);
    // The project-admin revokes any token of its project.
    expect((await api.call('DELETE', `/v1/tokens/${alices.id}`, undefined, as(high.token))).status).toBe(204);
  });
});
