import type { QuotaSet } from '@berth/domain';
import type { DataSource, EntityManager } from 'typeorm';
import { one } from '../sql';
import { aHost, aNetwork, anInstance, aProject } from '../testing/fixtures';
import { freshDatabase, type FreshDatabase } from '../testing/fresh-database';
import { lockProjectQuota, projectNames, projectQuota, projectUsage, setProjectQuota } from './quotas';
import { anyAdminToken, ensureAdmin, insertBootstrapToken, insertToken, revokeToken, validTokenIds } from './tokens';

/** Projects' quotas and tokens against real PostgreSQL: usage counted from the rows, tokens by their hash. */
describe('tenancy (quotas and tokens, real PostgreSQL)', () => {
  let db: FreshDatabase;
  let ds: DataSource;

  const tx = <T>(work: (m: EntityManager) => Promise<T>) => ds.transaction(work);
  const defaults: QuotaSet = {
    instances: 10,
    vcpus: 20,
    ramMb: 51200,
    diskGb: 1000,
    ips: 10,
    volumes: 10,
    volumeGb: 1000,
  };

  beforeAll(async () => {
    db = await freshDatabase('tenancy');
    ds = db.dataSource;
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('counts live instances and their addresses, a pending resize at its larger size, and no deleted one', async () => {
    const projectId = await aProject(ds, 'usage-tenant');
    const hostId = await aHost(ds, 'usage-host');
    const networkId = await aNetwork(ds, 'usage-net', 510);
    await anInstance(ds, { projectId, hostId, port: { networkId, ip: '10.1.254.10', mac: '02:be:00:00:05:10' } });
    const growing = await anInstance(ds, { projectId, hostId });
    const gone = await anInstance(ds, { projectId, hostId });
    await ds.query(
      `UPDATE instances SET pending_resize = '{"to": {"vcpus": 3, "ramMb": 256, "diskGb": 2}}' WHERE id = $1`,
      [growing.instanceId],
    );
    await ds.query(`UPDATE instances SET deleted_at = now(), status = 'DELETED' WHERE id = $1`, [gone.instanceId]);
    expect(await projectUsage(ds.manager, projectId)).toEqual({
      instances: 2,
      vcpus: 4,
      ramMb: 320,
      diskGb: 3,
      ips: 1,
      volumes: 0,
      volumeGb: 0,
    });
  });

  it("uses a project's own limits where set and the defaults elsewhere; -1 is kept as unlimited", async () => {
    const projectId = await aProject(ds, 'limits-tenant');
    expect((await projectQuota(ds.manager, projectId, defaults))?.limits).toEqual(defaults);
    expect(await tx((m) => setProjectQuota(m, projectId, { instances: 3, ips: -1 }))).toBe(true);
    const quota = await tx((m) => lockProjectQuota(m, projectId, defaults));
    expect(quota.limits).toEqual({ ...defaults, instances: 3, ips: -1 });
    expect(quota.usage.instances).toBe(0);
    expect(await tx((m) => setProjectQuota(m, '00000000-0000-4000-8000-000000000000', { instances: 1 }))).toBe(false);
    expect(await projectQuota(ds.manager, '00000000-0000-4000-8000-000000000000', defaults)).toBeNull();
    await expect(
      tx((m) => lockProjectQuota(m, '00000000-0000-4000-8000-000000000000', defaults)),
    ).rejects.toMatchObject({
      code: 'not_found',
    });
    expect((await projectNames(ds.manager)).map((p) => p.name)).toEqual(
      expect.arrayContaining(['limits-tenant', 'usage-tenant']),
    );
  });

  it('keeps a token valid until revoked or expired; a second revoke keeps the first time', async () => {
    const projectId = await aProject(ds, 'token-tenant');
    const user = await one<{ id: string }>(ds.manager, `INSERT INTO users (name) VALUES ('token-user') RETURNING id`);
    const token = (expiresAt: Date | null, hash: string) =>
      tx((m) =>
        insertToken(m, {
          userId: user!.id,
          projectId,
          role: 'member',
          name: null,
          secretHash: Buffer.from(hash),
          expiresAt,
        }),
      );
    const live = await token(null, 'live');
    const expired = await token(new Date(Date.now() - 1000), 'expired');
    expect(live).toMatchObject({ role: 'member', revokedAt: null });
    expect(await validTokenIds(ds.manager, [live.id, expired.id])).toEqual(new Set([live.id]));
    await tx((m) => revokeToken(m, live.id));
    const first = await one<{ at: Date }>(ds.manager, 'SELECT revoked_at AS at FROM tokens WHERE id = $1', [live.id]);
    await tx((m) => revokeToken(m, live.id));
    const second = await one<{ at: Date }>(ds.manager, 'SELECT revoked_at AS at FROM tokens WHERE id = $1', [live.id]);
    expect(second?.at).toEqual(first?.at);
    expect(await validTokenIds(ds.manager, [live.id])).toEqual(new Set());
  });

  it('makes the admin project and user once, however often asked, and its bootstrap token once per secret', async () => {
    const [a, b] = await Promise.all([tx((m) => ensureAdmin(m)), tx((m) => ensureAdmin(m))]);
    expect(a).toEqual(b);
    expect(await anyAdminToken(ds.manager)).toBe(false);
    await tx((m) => insertBootstrapToken(m, a, Buffer.from('bootstrap-secret')));
    await tx((m) => insertBootstrapToken(m, a, Buffer.from('bootstrap-secret')));
    const count = await one<{ n: number }>(
      ds.manager,
      `SELECT count(*)::int AS n FROM tokens WHERE name = 'bootstrap'`,
    );
    expect(count?.n).toBe(1);
    expect(await anyAdminToken(ds.manager)).toBe(true);
  });
});
