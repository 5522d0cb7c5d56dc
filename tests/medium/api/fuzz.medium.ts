import { newSshKeyPair } from '@berth/enroll';
import fc from 'fast-check';
import { routesOf } from '../../../apps/api/src/app';
import { TestApi } from '../api-harness';

/**
 * Bad input over every route the router registered (real PostgreSQL and Redis): generated path
 * parameters, query strings and bodies full of shell metacharacters, leading dashes, `../`, XML
 * specials, Unicode, huge and negative numbers, wrong types and malformed JSON. Whatever comes in,
 * the API answers below 500 with an error that says what was wrong, and a refused request changes
 * no row of any table: nothing is half-written and nothing is sent towards a host (host commands
 * only ever leave through rows of operations and the outbox, which commit together).
 *
 * The seed of each run is printed when a property fails, so a failure can be replayed with
 * FUZZ_SEED=<seed>.
 */

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 10_000);
const SEED = process.env['FUZZ_SEED'] === undefined ? undefined : Number(process.env['FUZZ_SEED']);

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** An operator's SSH key, for enrollments that never connect (no scheduler runs in this tier). */
const OPERATOR_KEY = newSshKeyPair().privateKey;

/** A valid body for each route that takes one: the fuzzer mutates these so that it reaches past the first check. */
const SEED_BODIES: Record<string, Array<Record<string, unknown>>> = {
  'POST /v1/flavors': [{ name: 'f1', vcpus: 1, ramMb: 64, diskGb: 1 }],
  'POST /v1/images': [
    { name: 'i1', kind: 'container', ref: 'busybox' },
    { name: 'v1', kind: 'vm', ref: '/var/lib/berth/images/test-vm/disk.qcow2' },
  ],
  'POST /v1/networks': [{ name: 'n1', vlan: 200, cidr: '10.77.0.0/24', gateway: '10.77.0.1' }],
  'POST /v1/instances': [
    { name: 'web', kind: 'container', flavor: 'm1.tiny', image: 'busybox', network: 'lan' },
    { name: 'db', kind: 'container', flavor: 'm1.tiny', image: 'busybox', network: 'lan', count: 2, zone: 'z' },
    { name: 'ip', kind: 'container', flavor: 'm1.tiny', image: 'busybox', network: 'lan', ip: '10.65.0.9' },
    {
      name: 'lim',
      kind: 'container',
      flavor: 'm1.tiny',
      image: 'busybox',
      network: 'lan',
      limits: { netEgressMbps: 10 },
    },
  ],
  'POST /v1/instances/:id/actions': [
    { action: 'stop' },
    { action: 'resize', flavor: 'm1.tiny', allowMove: true },
    { action: 'set-limits', limits: { diskWriteBps: 1048576 } },
    { action: 'migrate', host: 'fuzz-host' },
    { action: 'set-security-groups', securityGroups: ['default'] },
    { action: 'set-port-security', allowedAddressPairs: [{ ip: '10.65.0.200' }] },
    { action: 'attach', volume: '00000000-0000-4000-8000-000000000001', path: '/data' },
    { action: 'attach', volume: '00000000-0000-4000-8000-000000000001', serial: 'data-1' },
    { action: 'detach', volume: '00000000-0000-4000-8000-000000000001' },
  ],
  'POST /v1/projects': [{ name: 'p1' }],
  'PUT /v1/projects/:id/quotas': [{ instances: 10, vcpus: 20, ramMb: 4096, diskGb: 100, ips: 10 }],
  'POST /v1/users': [{ name: 'u1' }],
  'POST /v1/tokens': [
    { user: 'admin', project: 'admin', role: 'reader', name: 'ci', expiresAt: '2099-01-01T00:00:00Z' },
  ],
  'PATCH /v1/hosts/:id': [{ zone: 'zone-a', cpuRatio: 2, ramRatio: 1.5, diskRatio: 1 }],
  'POST /v1/hosts': [{ name: 'h1', address: '192.0.2.9', privateKey: OPERATOR_KEY, username: 'root', port: 22 }],
  'POST /v1/aggregates': [{ name: 'a1', metadata: { disk: 'ssd' }, hosts: ['fuzz-host'] }],
  'PUT /v1/aggregates/:id': [{ metadata: { disk: 'nvme' }, hosts: ['fuzz-host'] }],
  'POST /v1/server-groups': [{ name: 'g1', policy: 'anti-affinity' }],
  'POST /v1/volumes': [{ name: 'v1', sizeGb: 10, type: 'local', description: 'data', zone: 'nova' }],
  'POST /v1/volumes/:id/actions': [{ action: 'extend', sizeGb: 20 }],
  'POST /v1/volume-types': [
    { name: 'fast', description: 'limited', backend: 'file', isDefault: false, readIops: 500, writeBps: 10485760 },
  ],
  'POST /v1/security-groups': [{ name: 'sg1', description: 'web tier' }],
  'POST /v1/security-groups/:id/rules': [
    { direction: 'ingress', protocol: 'tcp', portMin: 80, portMax: 443, remoteCidr: '10.0.0.0/8' },
    { direction: 'egress', protocol: 'udp', remoteGroup: 'default' },
  ],
  'POST /v1/scheduler/dry-run': [
    { name: 'web', kind: 'container', flavor: 'm1.tiny', image: 'busybox', network: 'lan' },
  ],
  'POST /v1/reservations': [{ flavor: 'm1.tiny', count: 1, endsAt: '2099-01-01T00:00:00Z' }],
  'POST /v1/images/:id/prewarm': [{ hosts: ['fuzz-host'] }],
  'POST /v1/auth/tokens': [{ user: 'admin', password: 'not the password', project: 'admin' }],
  'POST /v1/auth/rescope': [{ project: 'fuzz-nowhere' }],
  'PUT /v1/users/:id/password': [{ password: 'a long fuzz password' }],
  'PUT /v1/projects/:id/members/:user': [{ role: 'member' }],
  'POST /identity/v3/auth/tokens': [
    {
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'admin', password: 'not the password' } } },
        scope: { project: { name: 'admin' } },
      },
    },
  ],
  'POST /compute/v2.1/servers': [{ server: { name: 'web', imageRef: 'busybox', flavorRef: 'm1.tiny' } }],
  'POST /compute/v2.1/servers/:id/action': [{ 'os-stop': null }, { reboot: { type: 'HARD' } }],
  'POST /compute/v2.1/servers/:id/metadata': [{ metadata: { role: 'web' } }],
  'PUT /compute/v2.1/servers/:id/metadata': [{ metadata: { role: 'web' } }],
  'PUT /compute/v2.1/servers/:id/metadata/:key': [{ meta: { role: 'db' } }],
  'POST /compute/v2.1/os-keypairs': [{ keypair: { name: 'fuzz-key' } }],
  'POST /image/v2/images': [
    { name: 'g1', container_format: 'docker', disk_format: 'raw', berth_ref: 'busybox' },
    { name: 'g2', container_format: 'bare', berth_ref: '/var/lib/berth/images/test-vm/disk.qcow2' },
  ],
  // Glance's upload takes bytes, not JSON: any JSON but an empty body is refused.
  'PUT /image/v2/images/:id/file': [{}],
  'POST /network/v2.0/networks': [{ network: { name: 'n2', 'provider:segmentation_id': 201 } }],
  'POST /identity/v3/users/:user/application_credentials': [{ application_credential: { name: 'fuzz-cred' } }],
  'POST /network/v2.0/subnets': [
    { subnet: { network_id: '00000000-0000-4000-8000-000000000000', cidr: '10.78.0.0/24' } },
  ],
};

/**
 * The message and the fields an error names: Berth's body lists them; the OpenStack face answers in each service's
 * own body (Nova's {"badRequest": {message}}, Keystone's {"error": {message}}, ...), whose message names the field.
 */
function refusal(body: any): { message: unknown; fields: string[] | null } {
  if (body?.error?.details) return { message: body.error.message, fields: body.error.details.map((d: any) => d.field) };
  const inner = body?.error ?? body?.NeutronError ?? (body?.message ? body : Object.values(body ?? {})[0]);
  return { message: (inner as { message?: unknown } | undefined)?.message, fields: null };
}

/** Query keys each route reads, so that generated values reach the validators. */
const QUERY_KEYS = ['limit', 'cursor', 'project', 'lines', 'flavor', 'status', 'host', 'kind', 'count'];

/** Strings an attacker or a careless script would send. */
const NASTY_CONSTANTS = [
  '; rm -rf / #',
  '$(reboot)',
  '`id`',
  '| cat /etc/shadow',
  '&& touch /tmp/berth-fuzz-pwned',
  '-rf',
  '--privileged',
  '-oProxyCommand=touch /tmp/berth-fuzz-pwned',
  '../../../etc/passwd',
  '..',
  '%2e%2e%2f',
  '<domain type="kvm"/>',
  "</name><devices><disk type='file'/></devices>",
  '&amp;&lt;&gt;&quot;&#39;',
  ']]><!--',
  '\'"\\',
  '\u0000',
  '\r\n',
  'ȷ̸̢͎͍̣͋̓̒ä̵̟́',
  '名前',
  '🚀🔥',
  '\u202eevil',
  '   ',
  '',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '9'.repeat(40),
  'x'.repeat(2000),
];
const nastyString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_CONSTANTS) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 80 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('-', '--', '../', ';', '$(', '`', '<', '&', '|', '\n'), fc.string({ maxLength: 20 }))
      .map(([a, b]) => a + b),
  },
);
const nastyNumber = fc.oneof(
  fc.constantFrom(-1, 0, -0, 0.5, -1e308, 1e308, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), Number.MIN_VALUE),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: nastyString },
  { weight: 3, arbitrary: nastyNumber },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.array(fc.oneof(nastyString, nastyNumber), { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(nastyString, fc.oneof(nastyString, nastyNumber), { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

/** A body: a seed with one field broken, dropped or added, or something that is not a body at all. */
function bodyOf(seeds: Array<Record<string, unknown>>): fc.Arbitrary<{ raw: string } | { json: unknown }> {
  const seed = fc.constantFrom(...seeds);
  const mutated = fc
    .tuple(seed, fc.nat(), nastyValue, fc.constantFrom('replace', 'drop', 'add', 'nest'), nastyString)
    .map(([s, i, value, how, key]) => {
      const keys = Object.keys(s);
      const target = keys[i % keys.length] ?? 'name';
      const body: Record<string, unknown> = { ...s };
      if (how === 'replace') body[target] = value;
      else if (how === 'drop') delete body[target];
      else if (how === 'add') body[key] = value;
      else body[target] = { [key]: value };
      return { json: body };
    });
  const doubly = fc
    .tuple(seed, nastyValue, nastyValue)
    .map(([s, a, b]) => ({ json: Object.fromEntries(Object.keys(s).map((k, i) => [k, i % 2 ? a : b])) }));
  const notABody = fc.oneof(
    nastyValue.map((json) => ({ json })),
    fc
      .constantFrom('{"name":', '{name: 1}', '[1,2', 'null', '"x"', '{"__proto__":{"admin":true}}', '\u0000')
      .map((raw) => ({ raw })),
  );
  return fc.oneof(
    { weight: 6, arbitrary: mutated },
    { weight: 2, arbitrary: doubly },
    { weight: 2, arbitrary: notABody },
  );
}

interface Input {
  route: string;
  url: string;
  body?: { raw: string } | { json: unknown };
  contentType?: string;
}

describe('bad input over every route (property-based, real PostgreSQL and Redis)', () => {
  let api: TestApi;
  let routes: Array<{ method: Method; url: string }>;
  /** Ids of real resources, so that some generated requests reach past the lookup into the handler. */
  const real: Record<string, string[]> = {};
  let countTables: string;

  beforeAll(async () => {
    api = await TestApi.start();
    routes = routesOf(api.app).map((r) => ({ method: r.method as Method, url: r.url }));
    await api.unlimitedQuota();
    const make = async (url: string, body: object): Promise<string> => {
      const res = await api.call('POST', url, body);
      if (res.status >= 300) throw new Error(`${url}: ${JSON.stringify(res.body)}`);
      const id = (res.body.id ?? res.body.instance?.id) as string | undefined;
      if (!id) throw new Error(`${url} answered no id`);
      return id;
    };
    real['hosts'] = (
      await api.sql<{ id: string }>(
        `INSERT INTO hosts (name, address, drivers, vcpus, ram_mb, disk_gb, cpu_ratio, ram_ratio, disk_ratio, last_heartbeat_at)
         VALUES ('fuzz-host', '192.0.2.1', '{container}', 64, 65536, 1000, 1, 1, 1, now()) RETURNING id`,
      )
    ).map((r) => r.id);
    real['flavors'] = [await make('/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 64, diskGb: 1 })];
    real['images'] = [await make('/v1/images', { name: 'busybox', kind: 'container', ref: 'busybox' })];
    real['networks'] = [
      await make('/v1/networks', { name: 'lan', vlan: 100, cidr: '10.65.0.0/22', gateway: '10.65.0.1' }),
    ];
    real['instances'] = [
      await make('/v1/instances', {
        name: 'seed',
        kind: 'container',
        flavor: 'm1.tiny',
        image: 'busybox',
        network: 'lan',
      }),
    ];
    real['projects'] = [await make('/v1/projects', { name: 'fuzz-project' })];
    real['aggregates'] = [await make('/v1/aggregates', { name: 'fuzz-agg', metadata: {} })];
    real['server-groups'] = [await make('/v1/server-groups', { name: 'fuzz-group', policy: 'affinity' })];
    real['volumes'] = [await make('/v1/volumes', { name: 'fuzz-volume', sizeGb: 1 })];
    real['volume-types'] = [await make('/v1/volume-types', { name: 'fuzz-type' })];
    real['security-groups'] = [await make('/v1/security-groups', { name: 'fuzz-sg' })];
    real['reservations'] = [
      await make('/v1/reservations', { flavor: 'm1.tiny', count: 1, endsAt: '2099-01-01T00:00:00Z' }),
    ];
    real['operations'] = (await api.sql<{ id: string }>('SELECT id FROM operations')).map((r) => r.id);
    real['tokens'] = (await api.sql<{ id: string }>('SELECT id FROM tokens')).map((r) => r.id);

    // Every table but the outbox (drained by the relay at any moment; its rows only commit with an
    // operation's) and the migrations' own bookkeeping.
    const tables = await api.sql<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT IN ('outbox', 'migrations')
        ORDER BY 1`,
    );
    expect(tables.length).toBeGreaterThan(10);
    countTables = `SELECT json_build_object(${tables
      .map((t) => `'${t.name}', (SELECT count(*) FROM "${t.name}")`)
      .join(', ')}) AS counts`;
  });
  afterAll(() => api?.stop());

  async function snapshot(): Promise<Record<string, number>> {
    const [row] = await api.sql<{ counts: Record<string, number> }>(countTables);
    return row!.counts;
  }

  it('has a seed body for every route that takes one', () => {
    const bodyRoutes = routes
      .filter((r) => ['POST', 'PUT', 'PATCH'].includes(r.method))
      .map((r) => `${r.method} ${r.url}`);
    const bodyless = new Set([
      'POST /v1/hosts/:id/drain',
      'POST /v1/hosts/:id/evacuate',
      'POST /v1/usage/audit/repair',
    ]);
    expect(bodyRoutes.filter((r) => !SEED_BODIES[r] && !bodyless.has(r))).toEqual([]);
  });

  /** The generator of one request: a route, its path filled with real or hostile ids, a query and a body. */
  function inputs(): fc.Arbitrary<Input> {
    const perRoute = routes.map(({ method, url }) => {
      const route = `${method} ${url}`;
      const params = url.match(/:[a-zA-Z]+/g) ?? [];
      const collection = url.split('/')[2] ?? '';
      // A DELETE of a real resource would leave the rest of the run without it.
      const ids = method === 'DELETE' ? [] : (real[collection] ?? []);
      const param = fc.oneof(
        { weight: ids.length > 0 ? 3 : 0, arbitrary: fc.constantFrom(...(ids.length > 0 ? ids : ['-'])) },
        { weight: 4, arbitrary: nastyString.filter((s) => s.length > 0).map((s) => encodeURIComponent(s)) },
        { weight: 1, arbitrary: fc.constantFrom('..', '.', '%2e%2e', '-1', '1e999', '%00', '..%2f..%2fetc') },
      );
      const query = fc.oneof(
        { weight: 3, arbitrary: fc.constant('') },
        {
          weight: 2,
          arbitrary: fc
            .array(fc.tuple(fc.constantFrom(...QUERY_KEYS), fc.oneof(nastyString, nastyNumber.map(String))), {
              minLength: 1,
              maxLength: 3,
            })
            .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`),
        },
      );
      const seeds = SEED_BODIES[route];
      const body = seeds
        ? bodyOf(seeds)
        : fc.option(
            nastyValue.map((json) => ({ json })),
            { freq: 4 },
          );
      const contentType = fc.oneof(
        { weight: 9, arbitrary: fc.constant('application/json') },
        { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/xml') },
      );
      return fc
        .record({
          params: fc.array(param, { minLength: params.length, maxLength: params.length }),
          query,
          body,
          contentType,
        })
        .map((g): Input => {
          let path = url;
          params.forEach((p, i) => (path = path.replace(p, g.params[i] ?? '')));
          return {
            route,
            url: path + g.query,
            ...(g.body === null || g.body === undefined || method === 'GET' || method === 'DELETE'
              ? {}
              : { body: g.body }),
            contentType: g.contentType,
          };
        });
    });
    return fc.oneof(...perRoute);
  }

  it(`never answers 500 and changes nothing when it refuses (${RUNS} generated requests)`, async () => {
    const seen = new Map<string, number>();
    const statuses = new Map<number, number>();
    let before = await snapshot();
    await fc.assert(
      fc.asyncProperty(inputs(), async (input) => {
        const [method] = input.route.split(' ') as [Method];
        const payload =
          input.body === undefined ? undefined : 'raw' in input.body ? input.body.raw : JSON.stringify(input.body.json);
        const res = await api.request({
          method,
          url: input.url,
          headers: {
            authorization: `Bearer ${api.adminToken}`,
            ...(payload === undefined ? {} : { 'content-type': input.contentType ?? 'application/json' }),
          },
          ...(payload === undefined ? {} : { payload }),
        });
        seen.set(input.route, (seen.get(input.route) ?? 0) + 1);
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        // JSON, but for the Prometheus text of /metrics.
        const json = String(res.headers['content-type']).includes('json');
        const body: unknown = res.body && json ? JSON.parse(res.body) : {};

        // No host answers in this tier: an accepted console or stats request waits for one and gives up (503).
        const hostless =
          (input.route === 'GET /v1/instances/:id/console' || input.route === 'GET /v1/instances/:id/stats') &&
          res.statusCode === 503;
        expect(res.statusCode < 500 || hostless).toBe(true);
        const after = await snapshot();
        if (res.statusCode >= 400) {
          const { message } = refusal(body);
          expect(typeof message).toBe('string');
          expect(String(message).length).toBeGreaterThan(0);
          // A refusal writes nothing: the same rows in every table.
          expect(after).toEqual(before);
        }
        before = after;
      }),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }), endOnFailure: true },
    );
    // Every route was reached, and most requests were refused (the inputs are hostile).
    expect([...seen.keys()].sort()).toEqual(routes.map((r) => `${r.method} ${r.url}`).sort());
    const refused = [...statuses].filter(([s]) => s >= 400).reduce((n, [, c]) => n + c, 0);
    expect(refused).toBeGreaterThan(RUNS / 2);
  }, 600_000);

  it('answers 400 naming the field for a hostile value in any field of a valid body', async () => {
    // Each field of each seed, in turn, holds each hostile constant or a wrong type: a 400 names
    // that field, and no refusal writes anything.
    let checked = 0;
    for (const route of Object.keys(SEED_BODIES)) {
      const [method, url] = route.split(' ') as [Method, string];
      const path = url.replace(':id', real[url.split('/')[2] ?? '']?.[0] ?? '');
      for (const seed of SEED_BODIES[route]!) {
        // The seed itself is well-formed (it may still meet a 404 or 409), or its mutations prove little.
        const plain = await api.call(method, path, seed);
        expect({ route, seed, status: plain.status, error: plain.body?.error?.message }).not.toMatchObject({
          status: 400,
        });
        for (const field of Object.keys(seed)) {
          for (const value of ['; rm -rf /', '-rf', '../x', '<a>&', 12.5, -1, { a: 1 }, ['x'], true]) {
            // A number in a numeric field may be valid (-1 is an unlimited quota): the fuzz above covers those.
            if (typeof value === 'number' && typeof seed[field] === 'number') continue;
            const before = await snapshot();
            const res = await api.call(method, path, { ...seed, [field]: value });
            // Valid there ('-rf' is a fine project name).
            if (res.status < 300) continue;
            expect(res.status).toBeLessThan(500);
            expect(await snapshot()).toEqual(before);
            // A 409 (the instance's state) or 404 (what a valid reference names) says why in its own words.
            if (res.status !== 400) continue;
            checked += 1;
            // A list's item is named by its index (allowedAddressPairs[0].ip): the field is the list.
            const named = refusal(res.body);
            // The OpenStack face's bodies have no field list: the message names the field by its path.
            const fields = (named.fields ?? [String(named.message).split(' ')[0] ?? '']).map((f) =>
              (f.split('.')[0] ?? '').replace(/\[\d+\]$/, ''),
            );
            expect({ route, field, value, status: res.status, fields }).toEqual({
              route,
              field,
              value,
              status: expect.any(Number),
              fields: expect.arrayContaining([field]),
            });
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(200);
  }, 120_000);

  it('refuses null where a field has no null value, and a NUL character anywhere, naming the field', async () => {
    const before = await snapshot();
    const host = real['hosts']![0]!;
    const nullRatio = await api.call('PATCH', `/v1/hosts/${host}`, { zone: 'zone-a', diskRatio: null });
    expect(nullRatio).toMatchObject({
      status: 400,
      body: { error: { details: [{ field: 'diskRatio', rule: 'notNull' }] } },
    });
    const nul = await api.call('POST', '/v1/aggregates', { name: 'agg', metadata: { 'a\u0000b': 'x' } });
    expect(nul).toMatchObject({
      status: 400,
      body: { error: { details: [{ field: 'metadata.a\u0000b', rule: 'noNul' }] } },
    });
    const nulQuery = await api.call('GET', '/v1/instances?cursor=%00');
    expect(nulQuery).toMatchObject({
      status: 400,
      body: { error: { details: [{ field: 'cursor', rule: 'noNul' }] } },
    });
    expect(await snapshot()).toEqual(before);
    // A flavor's throttle says null is a value (none): that is still taken.
    const flavor = await api.call('POST', '/v1/flavors', {
      name: 'nulls',
      vcpus: 1,
      ramMb: 64,
      diskGb: 1,
      cpuQuota: null,
    });
    expect(flavor).toMatchObject({ status: 201, body: { cpuQuota: null } });
  });

  it('refuses an oversized body on every route that takes one with 413, before anything is written', async () => {
    const before = await snapshot();
    const huge = JSON.stringify({ name: 'x'.repeat(300 * 1024) });
    for (const route of Object.keys(SEED_BODIES)) {
      const [method, url] = route.split(' ') as [Method, string];
      const res = await api.request({
        method,
        url: url.replace(':id', real[url.split('/')[2] ?? '']?.[0] ?? '00000000-0000-0000-0000-000000000000'),
        headers: { authorization: `Bearer ${api.adminToken}`, 'content-type': 'application/json' },
        payload: huge,
      });
      expect({ route, status: res.statusCode }).toEqual({ route, status: 413 });
    }
    expect(await snapshot()).toEqual(before);
  });
});
