import { TestApi } from '../api-harness';

/**
 * Port security at the API: every port has it unless a cloud admin switched it off, allowed address pairs are
 * checked field by field, and what a port may send from travels to its host in the build's spec.
 */
describe('port security and allowed address pairs (real PostgreSQL and Redis, no hosts)', () => {
  let api: TestApi;
  let memberToken: string;
  const create = (body: Record<string, unknown>, token?: string) =>
    api.call(
      'POST',
      '/v1/instances',
      { kind: 'container', flavor: 'm1.tiny', image: 'busybox', network: 'lan', ...body },
      token ? { authorization: `Bearer ${token}` } : undefined,
    );

  beforeAll(async () => {
    api = await TestApi.start();
    await api.unlimitedQuota();
    await api.call('POST', '/v1/projects', { name: 'shop' });
    await api.unlimitedQuota('shop');
    await api.call('POST', '/v1/users', { name: 'alice' });
    memberToken = (await api.call('POST', '/v1/tokens', { user: 'alice', project: 'shop', role: 'member' })).body.token;
    await api.call('POST', '/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 128, diskGb: 1 });
    await api.call('POST', '/v1/images', { name: 'busybox', kind: 'container', ref: 'busybox' });
    await api.call('POST', '/v1/networks', { name: 'lan', vlan: 100, cidr: '10.11.0.0/24', gateway: '10.11.0.1' });
  });
  afterAll(() => api.stop());

  it('gives every port port security and no pairs by default, and the build spec says so', async () => {
    const res = await create({ name: 'plain' }, memberToken);
    expect(res.status).toBe(202);
    expect(res.body.instance).toMatchObject({ portSecurity: true, allowedAddressPairs: [] });
    const [port] = await api.sql<{ port_security: boolean }>('SELECT port_security FROM ports WHERE id = $1', [
      res.body.instance.portId,
    ]);
    expect(port).toEqual({ port_security: true });
  });

  it('lets a member declare allowed address pairs; a pair without a MAC takes the port’s', async () => {
    const pairs = [{ ip: '10.11.0.200' }, { ip: '10.11.0.128/26', mac: '02:be:00:00:00:99' }];
    const res = await create({ name: 'vrrp', allowedAddressPairs: pairs }, memberToken);
    expect(res.status).toBe(202);
    const { mac } = res.body.instance;
    const expected = [
      { ip: '10.11.0.200', mac },
      { ip: '10.11.0.128/26', mac: '02:be:00:00:00:99' },
    ];
    expect(res.body.instance.allowedAddressPairs).toEqual(expected);
    expect((await api.call('GET', `/v1/instances/${res.body.instance.id}`)).body.allowedAddressPairs).toEqual(expected);
    // The placement job carries the spec the host will plug the port from.
    const [job] = await api.sql<{ payload: { spec: { port: unknown } } }>(
      `SELECT payload FROM outbox WHERE payload::text LIKE '%' || $1 || '%'`,
      [res.body.instance.id],
    );
    if (job) expect(JSON.stringify(job.payload)).toContain('10.11.0.128/26');
  });

  it('lets only a cloud admin switch port security off', async () => {
    const before = await api.counts();
    const refused = await create({ name: 'router', portSecurity: false }, memberToken);
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('portSecurity');
    expect(await api.counts()).toEqual(before);
    const admin = await create({ name: 'router', portSecurity: false });
    expect(admin.status).toBe(202);
    expect(admin.body.instance).toMatchObject({ portSecurity: false });
  });

  it.each([
    [{ allowedAddressPairs: [{ ip: '10.11.0.300' }] }, 'allowedAddressPairs[0].ip', 'ipv4OrCidr'],
    [{ allowedAddressPairs: [{ ip: '10.11.0.5/24' }] }, 'allowedAddressPairs[0].ip', 'networkAddress'],
    [
      { allowedAddressPairs: [{ ip: '10.11.0.5', mac: 'ff:ff:ff:ff:ff:ff' }] },
      'allowedAddressPairs[0].mac',
      'unicastMac',
    ],
    [
      { allowedAddressPairs: [{ ip: '10.11.0.5', mac: '02:be:00:00:00:01;x' }] },
      'allowedAddressPairs[0].mac',
      'unicastMac',
    ],
    [{ allowedAddressPairs: [{ ip: '10.11.0.5', port: 1 }] }, 'allowedAddressPairs[0].port', 'unknown'],
    [
      { allowedAddressPairs: Array.from({ length: 11 }, () => ({ ip: '10.11.0.5' })) },
      'allowedAddressPairs',
      'maxSize',
    ],
    [{ allowedAddressPairs: '10.11.0.5' }, 'allowedAddressPairs', 'isArray'],
    [{ portSecurity: 'no' }, 'portSecurity', 'isBoolean'],
  ])('refuses %j naming %s (%s) and writes nothing', async (body, field, rule) => {
    const before = await api.counts();
    const res = await create({ name: 'bad', ...body }, memberToken);
    expect(res.status).toBe(400);
    expect(res.body.error.details).toContainEqual(expect.objectContaining({ field, rule }));
    expect(await api.counts()).toEqual(before);
  });
});

describe('which registries a member’s image may come from (real PostgreSQL and Redis)', () => {
  let api: TestApi;
  let memberToken: string;
  const register = (ref: string, token?: string) =>
    api.call(
      'POST',
      '/v1/images',
      { name: `img-${Math.random().toString(36).slice(2, 8)}`, kind: 'container', ref },
      token ? { authorization: `Bearer ${token}` } : undefined,
    );

  beforeAll(async () => {
    api = await TestApi.start();
    await api.call('POST', '/v1/projects', { name: 'shop' });
    await api.call('POST', '/v1/users', { name: 'alice' });
    memberToken = (await api.call('POST', '/v1/tokens', { user: 'alice', project: 'shop', role: 'member' })).body.token;
  });
  afterAll(() => api.stop());

  it('takes the cloud’s registry from a member, and any registry from the cloud admin', async () => {
    expect((await register('127.0.0.1:5000/team/app:1.2', memberToken)).status).toBe(201);
    expect((await register('registry.example.com/app')).status).toBe(201);
    expect((await register('busybox')).status).toBe(201);
  });

  it.each(['busybox', 'library/nginx:1.25', 'registry.example.com/app', '127.0.0.1:5001/app'])(
    'refuses %s from a member, naming ref and the rule, and writes nothing',
    async (ref) => {
      const before = await api.counts();
      const res = await register(ref, memberToken);
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'ref', rule: 'registry' })]);
      expect(res.body.error.message).toContain('127.0.0.1:5000');
      expect(await api.counts()).toEqual(before);
    },
  );
});
