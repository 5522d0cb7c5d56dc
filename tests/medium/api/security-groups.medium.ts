import { computeQueue } from '@berth/contracts';
import { FirewallRefresher } from '@berth/control';
import { createLogger } from '@berth/platform';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { eventually, TestApi } from '../api-harness';
import { testRedisUrl } from '../settings';

/**
 * Security groups at the API (real PostgreSQL and Redis, no hosts): a default group per project, rules checked
 * field by field, another project's groups out of sight, quotas, and the firewall a build's spec carries.
 * What the hosts make of it is tests/system/security-groups.system.ts.
 */
describe('security groups at the API', () => {
  let api: TestApi;
  let member: string;
  let other: string;
  let web: any;
  let theirs: any;
  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const create = (body: Record<string, unknown>, token: string) =>
    api.call(
      'POST',
      '/v1/instances',
      { kind: 'container', flavor: 'm1.tiny', image: 'busybox', network: 'lan', ...body },
      as(token),
    );
  const rulesOf = async (id: string, token: string) =>
    (await api.call('GET', `/v1/security-groups/${id}`, undefined, as(token))).body.rules;

  beforeAll(async () => {
    api = await TestApi.start();
    for (const project of ['shop', 'rival']) {
      await api.call('POST', '/v1/projects', { name: project });
      await api.unlimitedQuota(project);
    }
    await api.call('POST', '/v1/users', { name: 'alice' });
    await api.call('POST', '/v1/users', { name: 'mallory' });
    member = (await api.call('POST', '/v1/tokens', { user: 'alice', project: 'shop', role: 'member' })).body.token;
    other = (await api.call('POST', '/v1/tokens', { user: 'mallory', project: 'rival', role: 'member' })).body.token;
    await api.call('POST', '/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 128, diskGb: 1 });
    await api.call('POST', '/v1/images', { name: 'busybox', kind: 'container', ref: 'busybox' });
    await api.call('POST', '/v1/networks', { name: 'lan', vlan: 100, cidr: '10.12.0.0/24', gateway: '10.12.0.1' });
    web = (await api.call('POST', '/v1/security-groups', { name: 'web' }, as(member))).body;
    theirs = (await api.call('POST', '/v1/security-groups', { name: 'web' }, as(other))).body;
  });
  afterAll(() => api.stop());

  it('gives a project a default group (egress anywhere, ingress from its members) and a new group egress only', async () => {
    const groups = (await api.call('GET', '/v1/security-groups', undefined, as(member))).body.items;
    expect(groups.map((g: any) => g.name)).toEqual(['default', 'web']);
    const fallback = groups[0];
    expect(fallback.rules).toEqual([
      expect.objectContaining({ direction: 'egress', protocol: 'any', remoteCidr: null, remoteGroupId: null }),
      expect.objectContaining({ direction: 'ingress', protocol: 'any', remoteGroupId: fallback.id }),
    ]);
    expect(web.rules).toEqual([expect.objectContaining({ direction: 'egress', protocol: 'any' })]);
  });

  it.each([
    [{ direction: 'sideways' }, 'direction', 'isIn'],
    [{ direction: 'ingress', protocol: 'sctp' }, 'protocol', 'isIn'],
    [{ direction: 'ingress', protocol: 'tcp', portMin: 0 }, 'portMin', 'portNumber'],
    [{ direction: 'ingress', protocol: 'tcp', portMin: 80, portMax: 65536 }, 'portMax', 'portNumber'],
    [{ direction: 'ingress', protocol: 'tcp', portMin: 443, portMax: 80 }, 'portMax', 'notReversed'],
    [{ direction: 'ingress', protocol: 'tcp', portMin: '80' }, 'portMin', 'portNumber'],
    [{ direction: 'ingress', protocol: 'icmp', portMin: 8 }, 'portMin', 'portsNeedProtocol'],
    [{ direction: 'ingress', protocol: 'tcp', portMax: 80 }, 'portMin', 'required'],
    [{ direction: 'ingress', remoteCidr: '10.0.0.0/33' }, 'remoteCidr', 'cidr'],
    [{ direction: 'ingress', remoteCidr: 'ten.zero' }, 'remoteCidr', 'cidr'],
    [{ direction: 'ingress', remoteCidr: '10.0.0.1/24' }, 'remoteCidr', 'networkAddress'],
    [{ direction: 'ingress', remoteCidr: '10.0.0.0/24', remoteGroup: 'web' }, 'remoteGroup', 'oneRemote'],
    [{ direction: 'ingress', colour: 'red' }, 'colour', 'unknownField'],
  ])('refuses the rule %j with a 400 naming %s (%s), and the group keeps its rules', async (rule, field, check) => {
    const before = await rulesOf(web.id, member);
    const res = await api.call('POST', `/v1/security-groups/${web.id}/rules`, rule, as(member));
    expect(res.status).toBe(400);
    expect(res.body.error.details).toContainEqual(expect.objectContaining({ field, rule: check }));
    expect(await rulesOf(web.id, member)).toEqual(before);
  });

  it('adds a rule once: the same rule again is a 409', async () => {
    const rule = { direction: 'ingress', protocol: 'tcp', portMin: 8080, remoteCidr: '10.12.0.0/24' };
    const made = await api.call('POST', `/v1/security-groups/${web.id}/rules`, rule, as(member));
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ ...rule, portMax: 8080 });
    const again = await api.call('POST', `/v1/security-groups/${web.id}/rules`, rule, as(member));
    expect(again.status).toBe(409);
  });

  it('keeps another project’s groups out of sight: 404 to read, change, name as a remote group or join', async () => {
    const notFound = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) => {
      const res = await api.call(method, path, body, as(member));
      expect(res.status).toBe(404);
      return res.body;
    };
    await notFound('GET', `/v1/security-groups/${theirs.id}`);
    await notFound('DELETE', `/v1/security-groups/${theirs.id}`);
    await notFound('POST', `/v1/security-groups/${theirs.id}/rules`, { direction: 'ingress' });
    await notFound('DELETE', `/v1/security-group-rules/${theirs.rules[0].id}`);
    const remote = await notFound('POST', `/v1/security-groups/${web.id}/rules`, {
      direction: 'ingress',
      remoteGroup: theirs.id,
    });
    expect(remote.error.details).toContainEqual(expect.objectContaining({ field: 'remoteGroup' }));
    const join = await create({ name: 'sneaky', securityGroups: [theirs.id] }, member);
    expect(join.status).toBe(404);
    expect(join.body.error.details).toContainEqual(expect.objectContaining({ field: 'securityGroups[0]' }));
    expect(await rulesOf(theirs.id, other)).toHaveLength(1);
    expect(await api.sql('SELECT 1 FROM instances WHERE name = $1', ['sneaky'])).toEqual([]);
  });

  it('puts an instance in the groups it names, and its build carries the firewall those allow', async () => {
    const res = await create({ name: 'shopfront', securityGroups: ['web', 'default'] }, member);
    expect(res.status).toBe(202);
    expect(res.body.instance.securityGroups.map((g: any) => g.name)).toEqual(['default', 'web']);
    const job = await api.placementJob(res.body.operationId);
    const firewall = job.members[0]!.spec.port.firewall!;
    expect(firewall.cut).toEqual([]);
    expect(firewall.rules).toContainEqual(
      expect.objectContaining({ direction: 'ingress', protocol: 'tcp', portMin: 8080, remoteCidrs: ['10.12.0.0/24'] }),
    );
    // The default group's ingress rule names its members: this instance's own address among them.
    expect(firewall.rules).toContainEqual(
      expect.objectContaining({ direction: 'ingress', remoteCidrs: [`${res.body.instance.ip}/32`] }),
    );
  });

  it('changes an instance’s groups by action, and refuses what cannot be', async () => {
    const made = await create({ name: 'worker' }, member);
    const id = made.body.instance.id;
    expect(made.body.instance.securityGroups.map((g: any) => g.name)).toEqual(['default']);
    const act = (body: Record<string, unknown>, token = member) =>
      api.call('POST', `/v1/instances/${id}/actions`, { action: 'set-security-groups', ...body }, as(token));
    expect((await act({})).status).toBe(400);
    expect((await act({ securityGroups: 'web' })).status).toBe(400);
    expect((await act({ securityGroups: ['nope'] })).status).toBe(404);
    expect((await act({ securityGroups: ['web'] }, other)).status).toBe(404);
    expect(
      (await api.call('POST', `/v1/instances/${id}/actions`, { action: 'stop', securityGroups: [] }, as(member)))
        .status,
    ).toBe(400);
    expect((await api.call('GET', `/v1/instances/${id}`, undefined, as(member))).body.securityGroups).toHaveLength(1);
    const done = await act({ securityGroups: ['web'] });
    expect(done.status).toBe(202);
    expect(
      (await api.call('GET', `/v1/operations/${done.body.operationId}`, undefined, as(member))).body,
    ).toMatchObject({
      action: 'instance.set-security-groups',
      status: 'succeeded',
    });
    expect((await api.call('GET', `/v1/instances/${id}`, undefined, as(member))).body.securityGroups).toEqual([
      { id: web.id, name: 'web' },
    ]);
    // In use: the group stays.
    expect((await api.call('DELETE', `/v1/security-groups/${web.id}`, undefined, as(member))).status).toBe(409);
  });

  it('holds a project to its quota of groups and rules', async () => {
    await api.sql(`UPDATE projects SET quota_security_groups = 3, quota_security_group_rules = 6 WHERE name = 'rival'`);
    expect((await api.call('POST', '/v1/security-groups', { name: 'second' }, as(other))).status).toBe(201);
    const over = await api.call('POST', '/v1/security-groups', { name: 'third' }, as(other));
    expect(over.status).toBe(403);
    expect(over.body.error.message).toContain('quota exceeded for securityGroups: limit 3, in use 3');
    // default (2 rules) + web (1) + second (1) = 4 of 6.
    for (const port of [1, 2]) {
      const ok = await api.call(
        'POST',
        `/v1/security-groups/${theirs.id}/rules`,
        { direction: 'ingress', protocol: 'tcp', portMin: port },
        as(other),
      );
      expect(ok.status).toBe(201);
    }
    const past = await api.call(
      'POST',
      `/v1/security-groups/${theirs.id}/rules`,
      { direction: 'ingress', protocol: 'udp' },
      as(other),
    );
    expect(past.status).toBe(403);
    expect(await rulesOf(theirs.id, other)).toHaveLength(3);
  });

  it('sends each marked instance’s firewall once however many changes marked it, and keeps an unplaced one’s mark', async () => {
    const ids: string[] = [];
    for (const name of ['placed-1', 'placed-2', 'waiting']) ids.push((await create({ name }, member)).body.instance.id);
    const [host] = await api.sql<{ id: string }>(
      `INSERT INTO hosts (name, address, drivers, vcpus, ram_mb, disk_gb, cpu_ratio, ram_ratio, disk_ratio, last_heartbeat_at)
       VALUES ('fw-host', '192.0.2.7', '{container}', 8, 8192, 100, 1, 1, 1, now()) RETURNING id`,
    );
    await api.sql(`UPDATE instances SET host_id = $1 WHERE id = ANY ($2::uuid[])`, [host!.id, ids.slice(0, 2)]);
    const fallback = (await api.call('GET', '/v1/security-groups', undefined, as(member))).body.items[0];
    for (const port of [7001, 7002, 7003]) {
      const rule = { direction: 'ingress', protocol: 'tcp', portMin: port };
      expect((await api.call('POST', `/v1/security-groups/${fallback.id}/rules`, rule, as(member))).status).toBe(201);
    }
    const refresher = new FirewallRefresher(api.dataSource, createLogger('test', 'silent'), {
      databaseUrl: api.env.BERTH_DATABASE_URL,
      pollMs: 60_000,
      spacingMs: 0,
    });
    expect(await refresher.refresh()).toBe(2);
    expect(await refresher.refresh()).toBe(0);
    const marks = await api.sql<{ id: string }>('SELECT instance_id AS id FROM firewall_refresh');
    // Sent: unmarked. Not placed yet (this one, and the earlier tests' builds no scheduler takes): still marked.
    expect(marks.map((m) => m.id)).toContain(ids[2]);
    expect(marks.map((m) => m.id)).not.toContain(ids[0]);
    expect(marks.map((m) => m.id)).not.toContain(ids[1]);

    const redis = new IORedis(testRedisUrl(), { maxRetriesPerRequest: null });
    const queue = new Queue(computeQueue('fw-host'), { connection: redis, prefix: api.env.BERTH_QUEUE_PREFIX });
    try {
      const jobs = await eventually(async () => {
        const found = await queue.getJobs(['waiting']);
        return found.length >= 2 ? found : null;
      }, 'the firewalls in the host’s queue');
      expect(jobs.map((j) => [j.name, j.data.instance.id]).sort()).toEqual(
        ids
          .slice(0, 2)
          .map((id) => ['port.firewall', id])
          .sort(),
      );
      // The firewall is the one after the three changes.
      const ports = jobs[0]!.data.instance.port.firewall.rules.map((r: any) => r.portMin);
      expect(ports).toEqual(expect.arrayContaining([7001, 7002, 7003]));
    } finally {
      await queue.close();
      await redis.quit();
    }
  });
});
