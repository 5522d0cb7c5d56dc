import { TestApi } from '../api-harness';

describe('tenancy: quotas, tokens and the audit trail (real PostgreSQL)', () => {
  let api: TestApi;
  let shop: { id: string; name: string };
  let alice: { id: string; name: string };
  let memberToken: string;

  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const create = (token: string, body: Record<string, unknown> = {}) =>
    api.call(
      'POST',
      '/v1/instances',
      { name: 'web', kind: 'container', flavor: 'small', image: 'busybox', network: 'lan', ...body },
      as(token),
    );
  const liveInstances = async (projectId: string) =>
    (
      await api.sql<{ n: number }>(
        'SELECT count(*)::int AS n FROM instances WHERE project_id = $1 AND deleted_at IS NULL',
        [projectId],
      )
    )[0]?.n;

  beforeAll(async () => {
    api = await TestApi.start();
    shop = (await api.call('POST', '/v1/projects', { name: 'shop' })).body;
    alice = (await api.call('POST', '/v1/users', { name: 'alice' })).body;
    memberToken = (await api.call('POST', '/v1/tokens', { user: 'alice', project: 'shop', role: 'member' })).body.token;
    await api.call('POST', '/v1/flavors', { name: 'small', vcpus: 1, ramMb: 64, diskGb: 1 });
    await api.call('POST', '/v1/flavors', { name: 'double', vcpus: 2, ramMb: 64, diskGb: 1 });
    await api.call('POST', '/v1/images', { name: 'busybox', kind: 'container', ref: 'busybox' });
    await api.call('POST', '/v1/networks', { name: 'lan', vlan: 100, cidr: '10.70.0.0/20', gateway: '10.70.0.1' });
  });
  afterAll(() => api.stop());

  async function clearShop(): Promise<void> {
    const items = (await api.call('GET', `/v1/instances?project=${shop.id}&limit=500`)).body.items as Array<{
      id: string;
    }>;
    for (const i of items) expect((await api.call('DELETE', `/v1/instances/${i.id}`)).status).toBe(202);
    expect(await liveInstances(shop.id)).toBe(0);
  }

  describe('quotas', () => {
    it('shows the configured defaults and the usage counted from the rows', async () => {
      const res = await api.call('GET', `/v1/projects/${shop.id}/quotas`, undefined, as(memberToken));
      expect(res.body).toEqual({
        instances: { limit: 20, used: 0 },
        vcpus: { limit: 40, used: 0 },
        ramMb: { limit: 51200, used: 0 },
        diskGb: { limit: 1000, used: 0 },
        ips: { limit: 50, used: 0 },
        volumes: { limit: 10, used: 0 },
        volumeGb: { limit: 1000, used: 0 },
      });
    });

    it('holds under a burst: quota 10 instances, 50 parallel creates', async () => {
      await api.call('PUT', `/v1/projects/${shop.id}/quotas`, {
        instances: 10,
        vcpus: -1,
        ramMb: -1,
        diskGb: -1,
        ips: -1,
      });
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => create(memberToken, { name: `burst-${i}` })),
      );
      const accepted = answers.filter((a) => a.status === 202);
      const refused = answers.filter((a) => a.status === 403);
      expect(accepted).toHaveLength(10);
      expect(refused).toHaveLength(40);
      for (const r of refused) {
        expect(r.body.error).toMatchObject({
          code: 'quota_exceeded',
          message: 'quota exceeded for instances: limit 10, in use 10, requested 1',
          quota: [{ resource: 'instances', limit: 10, used: 10, requested: 1 }],
        });
      }
      expect(await liveInstances(shop.id)).toBe(10);
      const quota = (await api.call('GET', `/v1/projects/${shop.id}/quotas`)).body;
      expect(quota.instances).toEqual({ limit: 10, used: 10 });
      expect(quota.ips).toEqual({ limit: -1, used: 10 });
      await clearShop();
    });

    it('holds when vCPUs bind: quota 9 vCPUs, 50 parallel creates of 2 vCPUs', async () => {
      await api.call('PUT', `/v1/projects/${shop.id}/quotas`, { instances: -1, vcpus: 9 });
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => create(memberToken, { name: `cpu-${i}`, flavor: 'double' })),
      );
      expect(answers.filter((a) => a.status === 202)).toHaveLength(4);
      const refused = answers.filter((a) => a.status === 403);
      expect(refused).toHaveLength(46);
      expect(refused[0]?.body.error.quota).toEqual([{ resource: 'vcpus', limit: 9, used: 8, requested: 2 }]);
      const [sum] = await api.sql<{ vcpus: number }>(
        'SELECT coalesce(sum(vcpus), 0)::int AS vcpus FROM instances WHERE project_id = $1 AND deleted_at IS NULL',
        [shop.id],
      );
      expect(sum?.vcpus).toBe(8);
      expect((await api.call('GET', `/v1/projects/${shop.id}/quotas`)).body.vcpus).toEqual({ limit: 9, used: 8 });
      await clearShop();
      await api.call('PUT', `/v1/projects/${shop.id}/quotas`, { vcpus: -1 });
    });

    it('frees quota on delete', async () => {
      await api.call('PUT', `/v1/projects/${shop.id}/quotas`, { instances: 1 });
      const first = await create(memberToken, { name: 'one' });
      expect((await create(memberToken, { name: 'two' })).status).toBe(403);
      await api.call('DELETE', `/v1/instances/${first.body.instance.id}`);
      expect((await create(memberToken, { name: 'three' })).status).toBe(202);
      await clearShop();
      await api.call('PUT', `/v1/projects/${shop.id}/quotas`, { instances: -1 });
    });

    it.each([
      [{ instances: -2 }, 'instances', 'min'],
      [{ vcpus: 1.5 }, 'vcpus', 'isInt'],
      [{ ramMb: '10' }, 'ramMb', 'isInt'],
      [{ cores: 4 }, 'cores', 'unknownField'],
      [{}, 'body', 'notEmpty'],
    ])('refuses %j with 400 on %s (%s)', async (body, field, rule) => {
      const res = await api.call('PUT', `/v1/projects/${shop.id}/quotas`, body);
      expect(res.status).toBe(400);
      expect(res.body.error.details).toContainEqual(expect.objectContaining({ field, rule }));
    });

    it('lets only the admin change quotas', async () => {
      expect((await api.call('PUT', `/v1/projects/${shop.id}/quotas`, { instances: 99 }, as(memberToken))).status).toBe(
        403,
      );
    });
  });

  describe('tokens', () => {
    it('a member mints a reader token for itself, which reads but cannot write', async () => {
      const minted = await api.call(
        'POST',
        '/v1/tokens',
        { user: 'alice', project: 'shop', role: 'reader', name: 'ci' },
        as(memberToken),
      );
      expect(minted.status).toBe(201);
      expect(minted.body).toMatchObject({
        userId: alice.id,
        projectId: shop.id,
        role: 'reader',
        name: 'ci',
        token: expect.stringMatching(/^berth_/),
      });
      const reader = minted.body.token as string;
      expect((await api.call('GET', '/v1/instances', undefined, as(reader))).status).toBe(200);
      const write = await create(reader);
      expect(write.status).toBe(403);
      expect(write.body.error.message).toBe('a reader token may not change anything');
    });

    it.each([
      [{ user: 'alice', project: 'shop', role: 'admin' }, 'you may not mint a role above your own (member)'],
      [{ user: 'admin', project: 'shop', role: 'reader' }, 'you may only mint tokens for yourself'],
      [{ user: 'alice', project: 'admin', role: 'reader' }, "you may only mint tokens in your token's project"],
    ])('a member may not mint %j', async (body, message) => {
      const res = await api.call('POST', '/v1/tokens', body, as(memberToken));
      expect(res.status).toBe(403);
      expect(res.body.error.message).toBe(message);
    });

    it.each([
      [{ role: 'owner' }, 'role', 'isIn'],
      [{ expiresAt: '2020-01-01T00:00:00Z' }, 'expiresAt', 'future'],
      [{ expiresAt: 'tomorrow' }, 'expiresAt', 'isIso8601'],
      [{ name: 'has spaces' }, 'name', 'matches'],
    ])('refuses %j with 400 naming %s', async (extra, field, rule) => {
      const res = await api.call('POST', '/v1/tokens', { user: 'alice', project: 'shop', role: 'reader', ...extra });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toContainEqual(expect.objectContaining({ field, rule }));
    });

    it('an admin mints for anyone, with an expiry; lists never show a secret', async () => {
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      const minted = await api.call('POST', '/v1/tokens', {
        user: alice.id,
        project: shop.id,
        role: 'member',
        expiresAt,
      });
      expect(minted.status).toBe(201);
      expect(new Date(minted.body.expiresAt).toISOString()).toBe(expiresAt);
      const listed = (await api.call('GET', '/v1/tokens')).body.items as Array<Record<string, unknown>>;
      expect(listed.length).toBeGreaterThan(2);
      for (const t of listed) {
        expect(Object.keys(t).sort()).toEqual([
          'createdAt',
          'expiresAt',
          'id',
          'name',
          'projectId',
          'revokedAt',
          'role',
          'userId',
        ]);
      }
    });

    it('revocation takes effect on the next request', async () => {
      const minted = (
        await api.call('POST', '/v1/tokens', { user: 'alice', project: 'shop', role: 'reader' }, as(memberToken))
      ).body;
      expect((await api.call('GET', '/v1/flavors', undefined, as(minted.token))).status).toBe(200);
      expect((await api.call('DELETE', `/v1/tokens/${minted.id}`, undefined, as(memberToken))).status).toBe(204);
      expect((await api.call('GET', '/v1/flavors', undefined, as(minted.token))).status).toBe(401);
      expect((await api.call('DELETE', `/v1/tokens/${minted.id}`, undefined, as(memberToken))).status).toBe(204);
    });
  });

  describe('the audit trail', () => {
    it('answers who did what to which instance, when, and whether it worked', async () => {
      const since = new Date(Date.now() - 1000).toISOString();
      const created = await create(memberToken, { name: 'audited' });
      const id = created.body.instance.id as string;
      await api.call('DELETE', `/v1/instances/${id}`, undefined, as(memberToken));
      const trail = await api.call('GET', `/v1/operations?target=${id}&since=${since}`, undefined, as(memberToken));
      expect(trail.status).toBe(200);
      expect(trail.body.items).toEqual([
        expect.objectContaining({
          action: 'instance.delete',
          status: 'succeeded',
          userId: alice.id,
          projectId: shop.id,
          targetId: id,
        }),
        expect.objectContaining({
          action: 'instance.create',
          status: 'failed',
          userId: alice.id,
          fault: expect.objectContaining({ step: 'interrupted' }),
        }),
      ]);
      for (const op of trail.body.items) {
        expect(op).toMatchObject({
          requestId: expect.any(String),
          startedAt: expect.any(String),
          finishedAt: expect.any(String),
        });
      }
    });

    it('filters by user, action and status, newest first, a page at a time', async () => {
      const all = (await api.call('GET', `/v1/operations?user=${alice.id}&action=instance.create&limit=500`)).body
        .items as any[];
      expect(all.length).toBeGreaterThan(10);
      expect(all.every((o) => o.userId === alice.id && o.action === 'instance.create')).toBe(true);
      const started = all.map((o) => o.startedAt as string);
      expect([...started].sort().reverse()).toEqual(started);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await api.call(
          'GET',
          `/v1/operations?user=${alice.id}&action=instance.create&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
        );
        seen.push(...page.body.items.map((o: any) => o.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual(all.map((o) => o.id));
      const failed = (await api.call('GET', '/v1/operations?status=failed&limit=500')).body.items as any[];
      expect(failed.every((o) => o.status === 'failed')).toBe(true);
    });

    it('a tenant sees only its own project, whatever it asks for', async () => {
      const adminOps = (await api.call('GET', '/v1/operations?limit=500')).body.items as any[];
      expect(adminOps.some((o) => o.projectId !== shop.id)).toBe(true);
      const asked = (
        await api.call(
          'GET',
          `/v1/operations?limit=500&project=${adminOps.find((o) => o.projectId !== shop.id).projectId}`,
          undefined,
          as(memberToken),
        )
      ).body.items as any[];
      expect(asked.every((o) => o.projectId === shop.id)).toBe(true);
    });

    it.each(['user=alice', 'since=yesterday', 'status=maybe', 'action=DROP TABLE', 'limit=0', 'target=1'])(
      'refuses ?%s with 400',
      async (q) => {
        expect((await api.call('GET', `/v1/operations?${q}`)).status).toBe(400);
      },
    );
  });

  describe('the usage audit', () => {
    it('finds a host whose counters drifted from its allocations, and repairs it', async () => {
      await api.sql(
        `INSERT INTO hosts (name, address, drivers, vcpus, ram_mb, disk_gb, cpu_ratio, ram_ratio, disk_ratio, used_vcpus,
                            used_pids)
         VALUES ('drifty', '192.0.2.9', '{container}', 8, 8192, 100, 1, 1, 1, 3, 1024)`,
      );
      const report = (await api.call('GET', '/v1/usage/audit')).body;
      expect(report.hostDrift).toEqual([
        {
          host: 'drifty',
          recorded: { vcpus: 3, pcpus: 0, ramMb: 0, diskGb: 0, pids: 1024, instances: 0, pinnedCpus: [] },
          actual: { vcpus: 0, pcpus: 0, ramMb: 0, diskGb: 0, pids: 0, instances: 0, pinnedCpus: [] },
        },
      ]);
      expect(report.projects).toContainEqual(
        expect.objectContaining({ name: 'shop', usage: expect.objectContaining({ instances: expect.any(Number) }) }),
      );
      expect((await api.call('POST', '/v1/usage/audit/repair')).body).toMatchObject({ repaired: true });
      expect((await api.call('GET', '/v1/usage/audit')).body.hostDrift).toEqual([]);
    });
  });
});
