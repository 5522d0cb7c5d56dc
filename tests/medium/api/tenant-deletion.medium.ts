import { markInstanceDeleted } from '@berth/data';
import { TestApi } from '../api-harness';

const PASSWORD = 'correct horse battery';

/**
 * Deleting projects and users (real PostgreSQL): a project only once it holds nothing, a user with its tokens ended
 * at once (its open event stream too); what they made and did stays on record under their ids.
 */
describe('deleting projects and users (real PostgreSQL)', () => {
  let api: TestApi;
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    // Streams' tokens are checked again only hourly: a deleted user's stream must end by the deletion's own notice.
    api = await TestApi.start({ env: { BERTH_EVENT_TOKEN_CHECK_SEC: '3600' } });
    await api.call('POST', '/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 64, diskGb: 1 });
    await api.call('POST', '/v1/images', { name: 'busybox', kind: 'container', ref: 'busybox' });
    await api.call('POST', '/v1/networks', { name: 'lan', vlan: 100, cidr: '10.68.0.0/24', gateway: '10.68.0.1' });
  });
  afterAll(() => api.stop());

  /** A project with a member who logged in, and one instance of the member's. */
  async function tenant(name: string) {
    const project = (await api.call('POST', '/v1/projects', { name })).body;
    const user = (await api.call('POST', '/v1/users', { name: `${name}-user`, password: PASSWORD })).body;
    expect((await api.call('PUT', `/v1/projects/${project.id}/members/${user.id}`, { role: 'member' })).status).toBe(
      200,
    );
    const login = await api.call('POST', '/v1/auth/tokens', { user: user.name, password: PASSWORD, project: name }, {});
    expect(login.status).toBe(201);
    const body = { name: 'web', kind: 'container', flavor: 'm1.tiny', image: 'busybox', network: 'lan' };
    const made = await api.call('POST', '/v1/instances', body, as(login.body.token));
    expect(made.status).toBe(202);
    return {
      project,
      user,
      token: login.body.token as string,
      instanceId: made.body.instance.id as string,
      operationId: made.body.operationId as string,
    };
  }

  it('refuses a project that holds an instance with 409 inUse, naming it, and changes nothing', async () => {
    const t = await tenant('busy');
    const before = await api.counts();
    const res = await api.call('DELETE', `/v1/projects/${t.project.id}`);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/still holds 1 instance/);
    expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'id', rule: 'inUse' })]);
    expect(await api.counts()).toEqual(before);
    expect((await api.call('GET', '/v1/instances', undefined, as(t.token))).status).toBe(200);
  });

  it('deletes an emptied project: its tokens end, its name is free, its history stays under its id', async () => {
    const t = await tenant('emptied');
    // As a finished delete leaves it: DELETED, its address and capacity freed.
    await api.dataSource.transaction((m) => markInstanceDeleted(m, t.instanceId, t.operationId));
    expect((await api.call('DELETE', `/v1/projects/${t.project.id}`)).status).toBe(204);
    expect((await api.call('GET', '/v1/instances', undefined, as(t.token))).status).toBe(401);
    expect((await api.call('GET', `/v1/projects/${t.project.id}`)).status).toBe(404);
    expect((await api.call('GET', '/v1/projects')).body.items.map((p: any) => p.name)).not.toContain('emptied');
    // The audit trail and the deleted instance keep the project's id; the deletion itself is on record.
    const ops = (await api.call('GET', `/v1/operations?project=${t.project.id}`)).body.items;
    expect(ops.map((o: any) => o.action)).toContain('instance.create');
    const [kept] = await api.sql<{ project_id: string }>('SELECT project_id FROM instances WHERE id = $1', [
      t.instanceId,
    ]);
    expect(kept?.project_id).toBe(t.project.id);
    const [deletion] = await api.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM operations WHERE action = 'project.delete' AND target_id = $1`,
      [t.project.id],
    );
    expect(deletion?.n).toBe(1);
    // The user stays, with no role anywhere: its login to the project is refused like any other wrong part.
    const login = await api.call(
      'POST',
      '/v1/auth/tokens',
      { user: t.user.name, password: PASSWORD, project: t.project.id },
      {},
    );
    expect(login.status).toBe(401);
    expect((await api.call('POST', '/v1/projects', { name: 'emptied' })).status).toBe(201);
  });

  it('refuses the admin project, and a project holding an active reservation', async () => {
    const admin = (await api.call('GET', '/v1/projects')).body.items.find((p: any) => p.name === 'admin');
    expect((await api.call('DELETE', `/v1/projects/${admin.id}`)).status).toBe(409);
    const project = (await api.call('POST', '/v1/projects', { name: 'reserving' })).body;
    await api.sql(
      `INSERT INTO hosts (name, address, drivers, vcpus, ram_mb, disk_gb, cpu_ratio, ram_ratio, disk_ratio, last_heartbeat_at)
       VALUES ('res-host', '192.0.2.1', '{container}', 64, 65536, 1000, 1, 1, 1, now())`,
    );
    const reserved = await api.call('POST', '/v1/reservations', {
      flavor: 'm1.tiny',
      count: 1,
      project: project.id,
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(reserved.status).toBe(201);
    const res = await api.call('DELETE', `/v1/projects/${project.id}`);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/1 active reservation/);
    expect((await api.call('DELETE', `/v1/reservations/${reserved.body.id}`)).status).toBe(204);
    expect((await api.call('DELETE', `/v1/projects/${project.id}`)).status).toBe(204);
  });

  it('deletes a user: its tokens and open event stream end at once, what it made keeps its id', async () => {
    const t = await tenant('kept');
    const client = await api.client(t.token);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 20_000);
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const reading = (async () => {
      for await (const event of client.events({}, { signal: abort.signal, onOpen: opened })) void event;
    })();
    await open;
    expect((await api.call('DELETE', `/v1/users/${t.user.id}`)).status).toBe(204);
    await reading;
    clearTimeout(timer);
    // The server ended it, not the test's own time limit.
    expect(abort.signal.aborted).toBe(false);
    expect((await api.call('GET', '/v1/instances', undefined, as(t.token))).status).toBe(401);
    expect((await api.call('GET', `/v1/projects/${t.project.id}/members`)).body.items).toEqual([]);
    const [made] = await api.sql<{ user_id: string }>('SELECT user_id FROM instances WHERE id = $1', [t.instanceId]);
    expect(made?.user_id).toBe(t.user.id);
    const login = await api.call(
      'POST',
      '/v1/auth/tokens',
      { user: t.user.name, password: PASSWORD, project: 'kept' },
      {},
    );
    expect(login.status).toBe(401);
    // The instance is the project's, and stays.
    expect((await api.call('GET', `/v1/instances/${t.instanceId}`)).status).toBe(200);
    expect((await api.call('DELETE', `/v1/users/${t.user.id}`)).status).toBe(404);
  });

  it('refuses to delete the last cloud admin', async () => {
    const [row] = await api.sql<{ id: string }>(`SELECT id FROM users WHERE name = 'admin'`);
    const res = await api.call('DELETE', `/v1/users/${row!.id}`);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/last cloud admin/);
    expect((await api.call('GET', '/v1/flavors')).status).toBe(200);
  });
});
