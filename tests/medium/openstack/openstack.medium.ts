import { TestApi } from '../api-harness';
import { osClient } from './os-client';

const PASSWORD = 'correct horse battery';

/**
 * The OpenStack face (real PostgreSQL): every answer checked against the upstream reference's shape (schemas.ts,
 * no field missing and none extra), for successes and errors; Keystone logins, lock-out, expiry and revocation;
 * tenancy (another project's server is a 404); bad input refused with the field named and nothing changed; and the
 * quirks the clients rely on (names and digits looked up as ids are 404s, null and {} action bodies, empty JSON
 * bodies, microversions).
 */
describe('the OpenStack face (real PostgreSQL)', () => {
  let api: TestApi;
  const ids = { flavor: '', image: '', network: '', shop: '', bank: '' };

  const { call, as, conforms, auth, login: loginAs, members } = osClient(() => api);
  const login = (user: string, project: string, password = PASSWORD) => loginAs(user, project, password);

  /** A server of alice's in shop, made ACTIVE on a host as a finished build leaves it. */
  async function activeServer(token: string, name = 'web'): Promise<string> {
    const res = await call(
      'POST',
      '/compute/v2.1/servers',
      { server: { name, imageRef: ids.image, flavorRef: ids.flavor, networks: [{ uuid: ids.network }] } },
      as(token),
    );
    conforms(res, 202, 'serverCreated');
    const id = res.body.server.id as string;
    await api.sql(
      `UPDATE instances SET status = 'ACTIVE', task_state = NULL, power_state = 'RUNNING', launched_at = now(),
              host_id = (SELECT id FROM hosts LIMIT 1) WHERE id = $1`,
      [id],
    );
    return id;
  }

  beforeAll(async () => {
    api = await TestApi.start({
      env: { BERTH_LOGIN_MAX_FAILURES: '3', BERTH_LOGIN_LOCKOUT_SEC: '600', BERTH_TOKEN_TTL_SEC: '3600' },
    });
    await api.unlimitedQuota();
    ids.flavor = (await api.call('POST', '/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 64, diskGb: 1 })).body.id;
    ids.image = (await api.call('POST', '/v1/images', { name: 'busybox', kind: 'container', ref: 'busybox' })).body.id;
    ids.network = (
      await api.call('POST', '/v1/networks', { name: 'lan', vlan: 100, cidr: '10.70.0.0/24', gateway: '10.70.0.1' })
    ).body.id;
    await api.sql(
      `INSERT INTO hosts (name, address, drivers, vcpus, ram_mb, disk_gb, cpu_ratio, ram_ratio, disk_ratio, last_heartbeat_at)
       VALUES ('os-host', '192.0.2.1', '{container}', 64, 65536, 1000, 1, 1, 1, now())`,
    );
    const made = await members(
      [
        ['shop', 'alice'],
        ['bank', 'bob'],
        ['shop', 'locked'],
      ],
      PASSWORD,
    );
    ids.shop = made['shop']!;
    ids.bank = made['bank']!;
  });
  afterAll(() => api.stop());

  it('answers the version documents of each service, without a token', async () => {
    conforms(await call('GET', '/identity'), 300, 'identityVersions');
    conforms(await call('GET', '/identity/v3'), 200, 'identityVersion');
    conforms(await call('GET', '/identity/v3/'), 200, 'identityVersion');
    conforms(await call('GET', '/compute'), 200, 'computeVersions');
    const v21 = conforms(await call('GET', '/compute/v2.1/'), 200, 'computeVersion');
    expect(v21.version.links[0].href).toMatch(/\/compute\/v2\.1\/$/);
    conforms(await call('GET', '/image'), 300, 'imageVersions');
    conforms(await call('GET', '/network'), 200, 'networkVersions');
  });

  it("logs in with a password: X-Subject-Token, the project's role and a catalog; the token works on both faces", async () => {
    const res = await call('POST', '/identity/v3/auth/tokens', auth('alice', PASSWORD, 'shop'));
    const doc = conforms(res, 201, 'token');
    expect(doc.token).toMatchObject({ methods: ['password'], user: { name: 'alice' }, project: { name: 'shop' } });
    expect(doc.token.roles.map((r: any) => r.name)).toEqual(['member', 'reader']);
    expect(doc.token.catalog.map((s: any) => s.type).sort()).toEqual(['compute', 'identity', 'image', 'network']);
    const compute = doc.token.catalog.find((s: any) => s.type === 'compute');
    expect(compute.endpoints[0].url).toMatch(/\/compute\/v2\.1$/);
    const token = String(res.headers['x-subject-token']);
    conforms(await call('GET', '/compute/v2.1/servers', undefined, as(token)), 200, 'servers');
    expect((await call('GET', '/v1/instances', undefined, { authorization: `Bearer ${token}` })).status).toBe(200);
    // Validation shows the same token; revocation ends it at once.
    const shown = await call('GET', '/identity/v3/auth/tokens', undefined, { ...as(token), 'x-subject-token': token });
    expect(conforms(shown, 200, 'token').token.expires_at).toBe(doc.token.expires_at);
    const gone = await call('DELETE', '/identity/v3/auth/tokens', undefined, {
      ...as(token),
      'x-subject-token': token,
    });
    expect(gone.status).toBe(204);
    conforms(await call('GET', '/identity/v3/auth/projects', undefined, as(token)), 401, 'keystoneError');
    conforms(await call('GET', '/compute/v2.1/servers', undefined, as(token)), 401, 'novaError');
  });

  it('refuses a wrong password, an unknown user and a project without a role alike, and locks out', async () => {
    const answers = [
      await call('POST', '/identity/v3/auth/tokens', auth('locked', 'wrong horse battery', 'shop')),
      await call('POST', '/identity/v3/auth/tokens', auth('nobody', PASSWORD, 'shop')),
      await call('POST', '/identity/v3/auth/tokens', auth('locked', PASSWORD, 'bank')),
      await call('POST', '/identity/v3/auth/tokens', auth('locked', PASSWORD, 'nowhere')),
    ];
    for (const a of answers) conforms(a, 401, 'keystoneError');
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    for (let i = 0; i < 3; i += 1)
      await call('POST', '/identity/v3/auth/tokens', auth('locked', 'wrong again!', 'shop'));
    conforms(await call('POST', '/identity/v3/auth/tokens', auth('locked', PASSWORD, 'shop')), 401, 'keystoneError');
  });

  it('ends an expired token, and rescopes a token only to a project its user holds a role in', async () => {
    const token = await login('alice', 'shop');
    const same = await call('POST', '/identity/v3/auth/tokens', {
      auth: { identity: { methods: ['token'], token: { id: token } }, scope: { project: { id: ids.shop } } },
    });
    expect(conforms(same, 201, 'token').token.methods).toEqual(['token']);
    expect(same.headers['x-subject-token']).toBe(token);
    const elsewhere = await call('POST', '/identity/v3/auth/tokens', {
      auth: { identity: { methods: ['token'], token: { id: token } }, scope: { project: { id: ids.bank } } },
    });
    conforms(elsewhere, 401, 'keystoneError');
    await api.sql(`UPDATE tokens SET expires_at = now() - interval '1 second' WHERE name = 'login'`);
    conforms(await call('GET', '/compute/v2.1/flavors', undefined, as(token)), 401, 'novaError');
  });

  it('refuses a malformed login with 400 naming the field', async () => {
    const noMethods = await call('POST', '/identity/v3/auth/tokens', { auth: { identity: {} } });
    expect(conforms(noMethods, 400, 'keystoneError').error.message).toMatch(/^auth\.identity\.methods /);
    const noUser = await call('POST', '/identity/v3/auth/tokens', {
      auth: { identity: { methods: ['password'], password: {} }, scope: { project: { name: 'shop' } } },
    });
    expect(conforms(noUser, 400, 'keystoneError').error.message).toMatch(/^auth\.identity\.password\.user\.name /);
    const otherDomain = await call('POST', '/identity/v3/auth/tokens', {
      ...auth('alice', PASSWORD, 'shop'),
      auth: {
        ...auth('alice', PASSWORD, 'shop').auth,
        scope: { project: { name: 'shop', domain: { name: 'Other' } } },
      },
    });
    expect(conforms(otherDomain, 400, 'keystoneError').error.message).toMatch(/^auth\.scope\.project\.domain /);
  });

  it('answers servers in exactly Nova 2.1 shapes, to their project only', async () => {
    const alice = await login('alice', 'shop');
    const bob = await login('bob', 'bank');
    const id = await activeServer(alice, 'web-1');
    const shown = conforms(await call('GET', `/compute/v2.1/servers/${id}`, undefined, as(alice)), 200, 'server');
    expect(shown.server).toMatchObject({
      name: 'web-1',
      status: 'ACTIVE',
      tenant_id: ids.shop,
      metadata: {},
      'OS-EXT-STS:vm_state': 'active',
      'OS-EXT-STS:power_state': 1,
      'OS-EXT-STS:task_state': null,
      flavor: { id: ids.flavor },
      image: { id: ids.image },
      addresses: { lan: [{ version: 4, addr: expect.stringMatching(/^10\.70\.0\./) }] },
    });
    expect(shown.server).not.toHaveProperty('OS-EXT-SRV-ATTR:host');
    const admin = conforms(
      await call('GET', `/compute/v2.1/servers/${id}`, undefined, as(api.adminToken)),
      200,
      'server',
    );
    expect(admin.server['OS-EXT-SRV-ATTR:host']).toBe('os-host');
    const detail = conforms(
      await call('GET', '/compute/v2.1/servers/detail?name=web-1', undefined, as(alice)),
      200,
      'serverDetails',
    );
    expect(detail.servers.map((s: any) => s.id)).toEqual([id]);
    const active = conforms(
      await call('GET', '/compute/v2.1/servers?status=ACTIVE', undefined, as(alice)),
      200,
      'servers',
    );
    expect(active.servers.map((s: any) => s.id)).toContain(id);
    // Another project's server does not exist for bob: 404 to show, act on or delete it, and not in his lists.
    conforms(await call('GET', `/compute/v2.1/servers/${id}`, undefined, as(bob)), 404, 'novaError');
    conforms(await call('POST', `/compute/v2.1/servers/${id}/action`, { 'os-stop': null }, as(bob)), 404, 'novaError');
    conforms(await call('DELETE', `/compute/v2.1/servers/${id}`, undefined, as(bob)), 404, 'novaError');
    expect(conforms(await call('GET', '/compute/v2.1/servers', undefined, as(bob)), 200, 'servers').servers).toEqual(
      [],
    );
    expect((await api.call('GET', `/v1/instances/${id}`)).body.status).toBe('ACTIVE');
  });

  it('pages server lists with limit and marker, linking the next page', async () => {
    const alice = await login('alice', 'shop');
    await activeServer(alice, 'page-a');
    await activeServer(alice, 'page-b');
    const first = conforms(
      await call('GET', '/compute/v2.1/servers?name=page-&limit=1', undefined, as(alice)),
      200,
      'servers',
    );
    expect(first.servers).toHaveLength(1);
    const next = new URL(first.servers_links[0].href);
    const second = conforms(await call('GET', next.pathname + next.search, undefined, as(alice)), 200, 'servers');
    expect(second.servers).toHaveLength(1);
    expect(second.servers[0].id).not.toBe(first.servers[0].id);
    expect(second).not.toHaveProperty('servers_links');
  });

  it('looks names and digits up as ids with a 404, never a 400 or 500', async () => {
    const alice = await login('alice', 'shop');
    for (const url of [
      '/compute/v2.1/servers/web-1',
      '/compute/v2.1/servers/12345',
      '/compute/v2.1/flavors/m1.tiny',
      '/compute/v2.1/flavors/42',
    ]) {
      conforms(await call('GET', url, undefined, as(alice)), 404, 'novaError');
    }
    conforms(await call('GET', '/image/v2/images/busybox', undefined, as(alice)), 404, 'glanceError');
    conforms(await call('GET', '/network/v2.0/networks/lan', undefined, as(alice)), 404, 'neutronError');
  });

  it('takes an action body of null or {}, refuses an unknown or double one, and deletes with an empty JSON body', async () => {
    const alice = await login('alice', 'shop');
    const id = await activeServer(alice, 'acted');
    const stop = (body: unknown) => call('POST', `/compute/v2.1/servers/${id}/action`, body, as(alice));
    const reset = () => api.sql(`UPDATE instances SET task_state = NULL WHERE id = $1`, [id]);
    expect((await stop({ 'os-stop': null })).status).toBe(202);
    await reset();
    expect((await stop({ 'os-stop': {} })).status).toBe(202);
    await reset();
    const before = await api.counts();
    expect(conforms(await stop({ shelve: null }), 400, 'novaError').badRequest.message).toMatch(/shelve/);
    expect(conforms(await stop({ 'os-stop': null, 'os-start': null }), 400, 'novaError').badRequest.message).toMatch(
      /exactly one/,
    );
    expect(conforms(await stop({ reboot: { type: 'GENTLE' } }), 400, 'novaError').badRequest.message).toMatch(
      /^reboot\.type /,
    );
    expect(await api.counts()).toEqual(before);
    const res = await api.request({
      method: 'DELETE',
      url: `/compute/v2.1/servers/${id}`,
      headers: { ...as(alice), 'content-type': 'application/json' },
      payload: '',
    });
    expect(res.statusCode).toBe(204);
  });

  it('refuses bad server bodies with 400 naming the field, and writes nothing', async () => {
    const alice = await login('alice', 'shop');
    const before = await api.counts();
    const create = (server: Record<string, unknown>) =>
      call(
        'POST',
        '/compute/v2.1/servers',
        { server: { name: 'x', imageRef: ids.image, flavorRef: ids.flavor, ...server } },
        as(alice),
      );
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ imageRef: undefined }, /^server\.imageRef /],
      [{ name: 'has spaces and ;' }, /server\.name/],
      [{ min_count: 0 }, /^server\.min_count /],
      [{ networks: [{ uuid: ids.network }, { uuid: ids.network }] }, /^server\.networks /],
      [{ networks: 'none' }, /^server\.networks /],
    ];
    for (const [server, says] of cases) {
      const res = await create(server);
      expect({ server, message: conforms(res, 400, 'novaError').badRequest.message }).toEqual({
        server,
        message: expect.stringMatching(says),
      });
    }
    conforms(await create({ imageRef: '00000000-0000-4000-8000-000000000000' }), 404, 'novaError');
    expect(await api.counts()).toEqual(before);
  });

  it('refuses a compute microversion it does not serve with 406, and says which one answered', async () => {
    const alice = await login('alice', 'shop');
    const res = await call('GET', '/compute/v2.1/flavors', undefined, {
      ...as(alice),
      'openstack-api-version': 'compute 2.60',
    });
    expect(conforms(res, 406, 'novaError').notAcceptable.message).toMatch(/2\.60/);
    const ok = await call('GET', '/compute/v2.1/flavors', undefined, {
      ...as(alice),
      'x-openstack-nova-api-version': 'latest',
    });
    conforms(ok, 200, 'flavors');
    expect(ok.headers).toMatchObject({ 'openstack-api-version': 'compute 2.1', 'x-openstack-nova-api-version': '2.1' });
  });

  it('answers flavors, limits and quota sets from Berth’s catalog and quotas', async () => {
    const alice = await login('alice', 'shop');
    conforms(await call('GET', '/compute/v2.1/flavors', undefined, as(alice)), 200, 'flavors');
    const detail = conforms(
      await call('GET', '/compute/v2.1/flavors/detail?is_public=None', undefined, as(alice)),
      200,
      'flavorDetails',
    );
    expect(detail.flavors).toContainEqual(expect.objectContaining({ id: ids.flavor, ram: 64, vcpus: 1, disk: 1 }));
    conforms(await call('GET', `/compute/v2.1/flavors/${ids.flavor}`, undefined, as(alice)), 200, 'flavor');
    conforms(
      await call('GET', `/compute/v2.1/flavors/${ids.flavor}/os-extra_specs`, undefined, as(alice)),
      200,
      'extraSpecs',
    );
    const limits = conforms(await call('GET', '/compute/v2.1/limits', undefined, as(alice)), 200, 'limits');
    const quota = (await api.call('GET', `/v1/projects/${ids.shop}/quotas`)).body;
    expect(limits.limits.absolute).toMatchObject({
      maxTotalInstances: quota.instances.limit,
      totalInstancesUsed: quota.instances.used,
      totalCoresUsed: quota.vcpus.used,
    });
    const set = conforms(
      await call('GET', `/compute/v2.1/os-quota-sets/${ids.shop}`, undefined, as(alice)),
      200,
      'quotaSet',
    );
    expect(set.quota_set).toMatchObject({ id: ids.shop, instances: quota.instances.limit });
    expect(quota.instances.used).toBeGreaterThan(0);
    conforms(await call('GET', `/compute/v2.1/os-quota-sets/${ids.bank}`, undefined, as(alice)), 404, 'novaError');
  });

  it('answers images, networks, subnets, ports and network quotas in Glance and Neutron shapes', async () => {
    const alice = await login('alice', 'shop');
    const id = await activeServer(alice, 'ported');
    const images = conforms(await call('GET', '/image/v2/images?name=busybox', undefined, as(alice)), 200, 'images');
    expect(images.images.map((i: any) => i.id)).toEqual([ids.image]);
    conforms(await call('GET', `/image/v2/images/${ids.image}`, undefined, as(alice)), 200, 'image');
    const networks = conforms(
      await call('GET', '/network/v2.0/networks?name=lan', undefined, as(alice)),
      200,
      'networks',
    );
    expect(networks.networks[0]).toMatchObject({ id: ids.network, 'provider:segmentation_id': 100 });
    conforms(await call('GET', `/network/v2.0/networks/${ids.network}`, undefined, as(alice)), 200, 'network');
    const subnets = conforms(
      await call('GET', `/network/v2.0/subnets?network_id=${ids.network}`, undefined, as(alice)),
      200,
      'subnets',
    );
    expect(subnets.subnets[0]).toMatchObject({ cidr: '10.70.0.0/24', gateway_ip: '10.70.0.1' });
    conforms(await call('GET', `/network/v2.0/subnets/${subnets.subnets[0].id}`, undefined, as(alice)), 200, 'subnet');
    const ports = conforms(
      await call('GET', `/network/v2.0/ports?device_id=${id}`, undefined, as(alice)),
      200,
      'ports',
    );
    const server = (await api.call('GET', `/v1/instances/${id}`)).body;
    expect(ports.ports).toEqual([
      expect.objectContaining({ id: server.portId, fixed_ips: [expect.objectContaining({ ip_address: server.ip })] }),
    ]);
    conforms(await call('GET', `/network/v2.0/ports/${server.portId}`, undefined, as(alice)), 200, 'port');
    conforms(await call('GET', `/network/v2.0/quotas/${ids.shop}`, undefined, as(alice)), 200, 'networkQuota');
    // bob sees no port of shop's.
    const bob = await login('bob', 'bank');
    conforms(await call('GET', `/network/v2.0/ports/${server.portId}`, undefined, as(bob)), 404, 'neutronError');
  });

  it('shows Keystone projects and users to whom they belong', async () => {
    const alice = await login('alice', 'shop');
    const mine = conforms(
      await call('GET', '/identity/v3/auth/projects', undefined, as(alice)),
      200,
      'keystoneProjects',
    );
    expect(mine.projects.map((p: any) => p.name)).toEqual(['shop']);
    conforms(await call('GET', `/identity/v3/projects/${ids.shop}`, undefined, as(alice)), 200, 'keystoneProject');
    conforms(await call('GET', `/identity/v3/projects/${ids.bank}`, undefined, as(alice)), 404, 'keystoneError');
    const validated = await call('GET', '/identity/v3/auth/tokens', undefined, {
      ...as(alice),
      'x-subject-token': alice,
    });
    const userId = validated.body.token.user.id as string;
    conforms(await call('GET', `/identity/v3/users/${userId}`, undefined, as(alice)), 200, 'keystoneUser');
    const bob = await login('bob', 'bank');
    conforms(await call('GET', `/identity/v3/users/${userId}`, undefined, as(bob)), 404, 'keystoneError');
  });
  it('keeps server metadata: set at create, merged, replaced, one key at a time, within its limits', async () => {
    const alice = await login('alice', 'shop');
    const made = await call(
      'POST',
      '/compute/v2.1/servers',
      {
        server: {
          name: 'meta',
          imageRef: ids.image,
          flavorRef: ids.flavor,
          networks: [{ uuid: ids.network }],
          metadata: { role: 'web' },
        },
      },
      as(alice),
    );
    const id = conforms(made, 202, 'serverCreated').server.id as string;
    const url = `/compute/v2.1/servers/${id}/metadata`;
    expect(conforms(await call('GET', url, undefined, as(alice)), 200, 'metadata')).toEqual({
      metadata: { role: 'web' },
    });
    const merged = await call('POST', url, { metadata: { tier: 'front' } }, as(alice));
    expect(conforms(merged, 200, 'metadata')).toEqual({ metadata: { role: 'web', tier: 'front' } });
    expect((await call('GET', `/compute/v2.1/servers/${id}`, undefined, as(alice))).body.server.metadata).toEqual({
      role: 'web',
      tier: 'front',
    });
    expect((await api.call('GET', `/v1/instances/${id}`)).body.metadata).toEqual({ role: 'web', tier: 'front' });
    const replaced = await call('PUT', url, { metadata: { owner: 'alice' } }, as(alice));
    expect(conforms(replaced, 200, 'metadata')).toEqual({ metadata: { owner: 'alice' } });
    expect(conforms(await call('PUT', `${url}/owner`, { meta: { owner: 'bob' } }, as(alice)), 200, 'meta')).toEqual({
      meta: { owner: 'bob' },
    });
    expect(conforms(await call('GET', `${url}/owner`, undefined, as(alice)), 200, 'meta')).toEqual({
      meta: { owner: 'bob' },
    });
    expect((await call('DELETE', `${url}/owner`, undefined, as(alice))).status).toBe(204);
    conforms(await call('GET', `${url}/owner`, undefined, as(alice)), 404, 'novaError');
    conforms(await call('DELETE', `${url}/owner`, undefined, as(alice)), 404, 'novaError');
    // Every change is on record.
    const ops = (await api.call('GET', `/v1/operations?target=${id}`)).body.items as Array<{ action: string }>;
    expect(ops.filter((o) => o.action === 'instance.metadata')).toHaveLength(4);

    // Refusals name the field and change nothing.
    const before = (await api.call('GET', `/v1/instances/${id}`)).body.metadata;
    const tooMany = Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`k${i}`, 'v']));
    expect(
      conforms(await call('PUT', url, { metadata: tooMany }, as(alice)), 400, 'novaError').badRequest.message,
    ).toMatch(/^metadata /);
    expect(
      conforms(await call('POST', url, { metadata: { n: 1 } }, as(alice)), 400, 'novaError').badRequest.message,
    ).toMatch(/^metadata\.n /);
    expect(
      conforms(await call('PUT', `${url}/a`, { meta: { b: 'x' } }, as(alice)), 400, 'novaError').badRequest.message,
    ).toMatch(/^meta /);
    const longKey = { ['k'.repeat(256)]: 'v' };
    conforms(await call('POST', url, { metadata: longKey }, as(alice)), 400, 'novaError');
    const badCreate = await call(
      'POST',
      '/compute/v2.1/servers',
      { server: { name: 'meta2', imageRef: ids.image, flavorRef: ids.flavor, metadata: { x: 'y'.repeat(256) } } },
      as(alice),
    );
    expect(conforms(badCreate, 400, 'novaError').badRequest.message).toMatch(/^server\.metadata\.x /);
    expect((await api.call('GET', `/v1/instances/${id}`)).body.metadata).toEqual(before);
    // Another project's server has no metadata to show or change.
    const bob = await login('bob', 'bank');
    conforms(await call('GET', url, undefined, as(bob)), 404, 'novaError');
    conforms(await call('POST', url, { metadata: { a: 'b' } }, as(bob)), 404, 'novaError');
  });
  it("keeps a user's key pairs: made or imported, listed, shown, deleted; a server keeps the key it was built with", async () => {
    const alice = await login('alice', 'shop');
    const made = conforms(
      await call('POST', '/compute/v2.1/os-keypairs', { keypair: { name: 'laptop' } }, as(alice)),
      200,
      'keypairCreated',
    );
    expect(made.keypair.private_key).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
    expect(made.keypair.public_key).toMatch(/^ssh-ed25519 AAAA/);
    const imported = await call(
      'POST',
      '/compute/v2.1/os-keypairs',
      { keypair: { name: 'desk', public_key: `${made.keypair.public_key} alice@desk` } },
      as(alice),
    );
    expect(conforms(imported, 200, 'keypairCreated').keypair).not.toHaveProperty('private_key');
    expect(imported.body.keypair.fingerprint).toBe(made.keypair.fingerprint);
    const list = conforms(await call('GET', '/compute/v2.1/os-keypairs', undefined, as(alice)), 200, 'keypairs');
    expect(list.keypairs.map((k: any) => k.keypair.name)).toEqual(['desk', 'laptop']);
    conforms(await call('GET', '/compute/v2.1/os-keypairs/laptop', undefined, as(alice)), 200, 'keypair');

    // Refusals name the field and change nothing.
    const before = await api.sql<{ n: number }>('SELECT count(*)::int AS n FROM keypairs');
    const bad = await call(
      'POST',
      '/compute/v2.1/os-keypairs',
      { keypair: { name: 'x', public_key: 'ssh-rsa nonsense' } },
      as(alice),
    );
    expect(conforms(bad, 400, 'novaError').badRequest.message).toMatch(/^keypair\.public_key /);
    const badName = await call('POST', '/compute/v2.1/os-keypairs', { keypair: { name: 'a/b' } }, as(alice));
    expect(conforms(badName, 400, 'novaError').badRequest.message).toMatch(/^keypair\.name /);
    conforms(
      await call('POST', '/compute/v2.1/os-keypairs', { keypair: { name: 'laptop' } }, as(alice)),
      409,
      'novaError',
    );
    expect(await api.sql('SELECT count(*)::int AS n FROM keypairs')).toEqual(before);

    // A server built with a key pair keeps its name and a copy of its key; an unknown one is a 404.
    const server = await call(
      'POST',
      '/compute/v2.1/servers',
      {
        server: {
          name: 'keyed',
          imageRef: ids.image,
          flavorRef: ids.flavor,
          networks: [{ uuid: ids.network }],
          key_name: 'laptop',
        },
      },
      as(alice),
    );
    const id = conforms(server, 202, 'serverCreated').server.id as string;
    expect((await call('GET', `/compute/v2.1/servers/${id}`, undefined, as(alice))).body.server.key_name).toBe(
      'laptop',
    );
    expect((await api.call('GET', `/v1/instances/${id}`)).body.keyName).toBe('laptop');
    const [row] = await api.sql<{ key_data: string }>('SELECT key_data FROM instances WHERE id = $1', [id]);
    expect(row?.key_data).toBe(made.keypair.public_key);
    const unknown = await call(
      'POST',
      '/compute/v2.1/servers',
      {
        server: {
          name: 'unkeyed',
          imageRef: ids.image,
          flavorRef: ids.flavor,
          networks: [{ uuid: ids.network }],
          key_name: 'nope',
        },
      },
      as(alice),
    );
    conforms(unknown, 404, 'novaError');

    // Another user's key pairs do not exist for bob, not even to build with.
    const bob = await login('bob', 'bank');
    conforms(await call('GET', '/compute/v2.1/os-keypairs/laptop', undefined, as(bob)), 404, 'novaError');
    conforms(await call('DELETE', '/compute/v2.1/os-keypairs/laptop', undefined, as(bob)), 404, 'novaError');
    expect((await call('DELETE', '/compute/v2.1/os-keypairs/laptop', undefined, as(alice))).status).toBe(202);
    conforms(await call('GET', '/compute/v2.1/os-keypairs/laptop', undefined, as(alice)), 404, 'novaError');
    // The server keeps its copy.
    expect(
      (await api.sql<{ key_data: string }>('SELECT key_data FROM instances WHERE id = $1', [id]))[0]?.key_data,
    ).toBe(made.keypair.public_key);
  });
});
