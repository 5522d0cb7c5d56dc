import { TestApi } from '../api-harness';
import { osClient } from './os-client';

const PASSWORD = 'correct horse battery';

/**
 * Keystone's application credentials (real PostgreSQL): a user's own, for its token's project and no more than its
 * role; a login by id or by name; restricted ones mint nothing and stay in their project; deleting one ends its
 * tokens; secrets shown once and stored as Argon2id hashes.
 */
describe('the OpenStack face: application credentials', () => {
  let api: TestApi;
  const { call, as, conforms, login, members } = osClient(() => api);
  const ids = { shop: '', bank: '', alice: '', bob: '' };
  let alice = '';

  const create = (token: string, body: Record<string, unknown>, user = ids.alice) =>
    call('POST', `/identity/v3/users/${user}/application_credentials`, { application_credential: body }, as(token));
  const byId = (id: string, secret: string) => ({
    auth: { identity: { methods: ['application_credential'], application_credential: { id, secret } } },
  });
  /** A login with the credential; its token, or the refusal. */
  const credLogin = async (body: unknown) => {
    const res = await call('POST', '/identity/v3/auth/tokens', body);
    const token = res.headers['x-subject-token'];
    return { res, token: typeof token === 'string' ? token : '' };
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    api = await TestApi.start();
    Object.assign(
      ids,
      await members(
        [
          ['shop', 'alice'],
          ['bank', 'bob'],
        ],
        PASSWORD,
      ),
    );
    alice = await login('alice', 'shop', PASSWORD);
  });
  afterAll(() => api.stop());

  it('makes a credential for the token’s project and role, answers its secret once, and logs in with it', async () => {
    const made = conforms(await create(alice, { name: 'ci', description: 'deploys' }), 201, 'applicationCredential');
    const cred = made.application_credential;
    expect(cred).toMatchObject({
      name: 'ci',
      project_id: ids.shop,
      user_id: ids.alice,
      unrestricted: false,
      roles: [{ name: 'member' }],
    });
    expect(cred.secret).toMatch(/^[A-Za-z0-9_-]{64}$/);
    const [stored] = await api.sql<{ hash: string }>(`SELECT secret_hash AS hash FROM application_credentials`);
    expect(stored?.hash).toMatch(/^\$argon2id\$/);
    expect(JSON.stringify(await api.sql(`SELECT * FROM operations`))).not.toContain(cred.secret);
    const shown = conforms(
      await call('GET', `/identity/v3/users/${ids.alice}/application_credentials/${cred.id}`, undefined, as(alice)),
      200,
      'applicationCredential',
    );
    expect(shown.application_credential.secret).toBeUndefined();

    const { res, token } = await credLogin(byId(cred.id, cred.secret));
    const doc = conforms(res, 201, 'token').token;
    expect(doc).toMatchObject({
      methods: ['application_credential'],
      project: { id: ids.shop },
      application_credential: { id: cred.id, name: 'ci', restricted: true },
    });
    expect(doc.roles.map((r: any) => r.name)).toEqual(['member', 'reader']);
    expect((await call('GET', '/v1/instances', undefined, bearer(token))).status).toBe(200);
    // By name, with its user by name in the default domain.
    const byName = {
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: {
            name: 'ci',
            secret: cred.secret,
            user: { name: 'alice', domain: { name: 'Default' } },
          },
        },
      },
    };
    expect((await credLogin(byName)).res.status).toBe(201);
  });

  it('refuses a wrong secret, an unknown credential and a scope alike, and another user’s credentials are 404', async () => {
    const cred = (await create(alice, { name: 'refusals' })).body.application_credential;
    for (const body of [byId(cred.id, 'wrong'), byId('00000000-0000-4000-8000-000000000000', cred.secret)]) {
      const { res } = await credLogin(body);
      expect(conforms(res, 401, 'keystoneError').error.message).toBe(
        'the application credential and secret were not accepted; try again later',
      );
    }
    const scoped = { ...byId(cred.id, cred.secret), scope: undefined } as any;
    scoped.auth.scope = { project: { id: ids.shop } };
    conforms((await credLogin(scoped)).res, 400, 'keystoneError');
    const bob = await login('bob', 'bank', PASSWORD);
    const url = `/identity/v3/users/${ids.alice}/application_credentials`;
    conforms(await call('GET', url, undefined, as(bob)), 404, 'keystoneError');
    conforms(await call('GET', `${url}/${cred.id}`, undefined, as(bob)), 404, 'keystoneError');
    conforms(await call('DELETE', `${url}/${cred.id}`, undefined, as(bob)), 404, 'keystoneError');
    conforms(await create(bob, { name: 'theirs' }), 404, 'keystoneError');
    const mine = conforms(
      await call('GET', `${url}?name=refusals`, undefined, as(alice)),
      200,
      'applicationCredentials',
    );
    expect(mine.application_credentials.map((c: any) => c.id)).toEqual([cred.id]);
  });

  it('gives a restricted credential’s token no tokens, no credentials and no other project; an unrestricted one may', async () => {
    await api.call('PUT', `/v1/projects/${ids.bank}/members/alice`, { role: 'member' });
    const restricted = (await create(alice, { name: 'restricted' })).body.application_credential;
    const token = (await credLogin(byId(restricted.id, restricted.secret))).token;
    conforms(await create(token, { name: 'child' }), 403, 'keystoneError');
    const mint = await call('POST', '/v1/tokens', { user: 'alice', project: ids.shop, role: 'reader' }, bearer(token));
    expect(mint.status).toBe(403);
    const rescope = {
      auth: { identity: { methods: ['token'], token: { id: token } }, scope: { project: { id: ids.bank } } },
    };
    conforms(await call('POST', '/identity/v3/auth/tokens', rescope), 401, 'keystoneError');

    const open = (await create(alice, { name: 'open', unrestricted: true })).body.application_credential;
    const openToken = (await credLogin(byId(open.id, open.secret))).token;
    conforms(await create(openToken, { name: 'child' }), 201, 'applicationCredential');
  });

  it('holds roles and expiry: no role above the token’s, the lower of its role and the user’s, and its end', async () => {
    conforms(await create(alice, { name: 'up', roles: [{ name: 'admin' }] }), 403, 'keystoneError');
    const reader = (await create(alice, { name: 'reads', roles: [{ name: 'reader' }] })).body.application_credential;
    const readerToken = (await credLogin(byId(reader.id, reader.secret))).token;
    expect((await call('POST', '/v1/flavors', { name: 'x' }, bearer(readerToken))).status).toBe(403);

    const past = { name: 'past', expires_at: '2020-01-01T00:00:00.000000' };
    expect(conforms(await create(alice, past), 400, 'keystoneError').error.message).toContain('expiresAt');
    const end = new Date(Date.now() + 600_000);
    const soon = (await create(alice, { name: 'soon', expires_at: end.toISOString().replace('Z', '') })).body
      .application_credential;
    const { res } = await credLogin(byId(soon.id, soon.secret));
    expect(new Date(res.body.token.expires_at).getTime()).toBeLessThanOrEqual(end.getTime() + 1);

    // A user's role lowered in the project lowers the credential's tokens; none left refuses the login.
    await api.call('PUT', `/v1/projects/${ids.shop}/members/alice`, { role: 'reader' });
    const lowered = (await credLogin(byId(soon.id, soon.secret))).res.body.token;
    expect(lowered.roles.map((r: any) => r.name)).toEqual(['reader']);
    await api.call('DELETE', `/v1/projects/${ids.shop}/members/alice`);
    expect((await credLogin(byId(soon.id, soon.secret))).res.status).toBe(401);
    await api.call('PUT', `/v1/projects/${ids.shop}/members/alice`, { role: 'member' });
  });

  it('ends every token a credential gave when it is deleted', async () => {
    const fresh = await login('alice', 'shop', PASSWORD);
    const cred = (await create(fresh, { name: 'ends' })).body.application_credential;
    const token = (await credLogin(byId(cred.id, cred.secret))).token;
    expect((await call('GET', '/v1/instances', undefined, bearer(token))).status).toBe(200);
    const url = `/identity/v3/users/${ids.alice}/application_credentials/${cred.id}`;
    expect((await call('DELETE', url, undefined, as(fresh))).status).toBe(204);
    expect((await call('GET', '/v1/instances', undefined, bearer(token))).status).toBe(401);
    expect((await credLogin(byId(cred.id, cred.secret))).res.status).toBe(401);
    conforms(await call('GET', url, undefined, as(fresh)), 404, 'keystoneError');
  });
});
