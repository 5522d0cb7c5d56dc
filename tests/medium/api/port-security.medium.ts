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
    const job = await api.placementJob(res.body.operationId);
    expect(job.members[0]!.spec.port.allowedAddressPairs).toEqual(expected);
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

  it('changes a port’s allowed address pairs live, and lets only an admin switch its checks, groups gone first', async () => {
    const made = await create({ name: 'changing' }, memberToken);
    const id = made.body.instance.id;
    const act = (body: Record<string, unknown>, token?: string) =>
      api.call(
        'POST',
        `/v1/instances/${id}/actions`,
        { action: 'set-port-security', ...body },
        token ? { authorization: `Bearer ${token}` } : undefined,
      );
    const show = async () => (await api.call('GET', `/v1/instances/${id}`)).body;
    expect((await act({}, memberToken)).status).toBe(400);
    const bad = await act({ allowedAddressPairs: [{ ip: '10.11.0.1/33' }] }, memberToken);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toContainEqual(expect.objectContaining({ field: 'allowedAddressPairs[0].ip' }));
    expect((await act({ portSecurity: false }, memberToken)).status).toBe(403);
    expect((await show()).allowedAddressPairs).toEqual([]);

    const ok = await act({ allowedAddressPairs: [{ ip: '10.11.0.210' }] }, memberToken);
    expect(ok.status).toBe(202);
    expect((await show()).allowedAddressPairs).toEqual([{ ip: '10.11.0.210', mac: made.body.instance.mac }]);
    expect((await api.call('GET', `/v1/operations/${ok.body.operationId}`)).body).toMatchObject({
      action: 'instance.set-port-security',
      status: 'succeeded',
    });
    // Marked for its host (and its default group's members learn the pair as a member's address).
    const [mark] = await api.sql('SELECT 1 FROM firewall_refresh WHERE instance_id = $1', [id]);
    expect(mark).toBeDefined();

    // Switched off: not while it is in groups; then its port is unchecked and has none.
    expect((await act({ portSecurity: false })).status).toBe(409);
    expect((await show()).portSecurity).toBe(true);
    const ungroup = { action: 'set-security-groups', securityGroups: [] };
    expect((await api.call('POST', `/v1/instances/${id}/actions`, ungroup)).status).toBe(202);
    expect((await act({ portSecurity: false })).status).toBe(202);
    expect(await show()).toMatchObject({ portSecurity: false, securityGroups: [] });
    expect((await act({ allowedAddressPairs: [] }, memberToken)).status).toBe(202);
    expect((await api.call('POST', `/v1/instances/${id}/actions`, { action: 'stop', portSecurity: true })).status).toBe(
      400,
    );
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
