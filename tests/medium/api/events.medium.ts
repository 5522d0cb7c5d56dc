import { ApiError, type BerthClient, type ServerEvent } from '@berth/client';
import { EventStore } from '@berth/data';
import { Client } from 'pg';
import { TestApi } from '../api-harness';

/**
 * GET /v1/events against real PostgreSQL: what the triggers write, the commit order of the
 * resume token, resuming after a disconnect, tenant scope and the history horizon.
 */
describe('events: the SSE stream of instance, operation and host changes (real PostgreSQL)', () => {
  let api: TestApi;
  let admin: BerthClient;
  let shop: BerthClient;
  let bank: BerthClient;
  let shopId: string;
  let bankId: string;

  /** Reads events from one connection until `enough` says so; closes the connection. */
  async function read(
    client: BerthClient,
    query: Record<string, string>,
    enough: (seen: ServerEvent[]) => boolean,
    options: { lastEventId?: number; during?: () => Promise<unknown> } = {},
  ): Promise<ServerEvent[]> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 20_000);
    const seen: ServerEvent[] = [];
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const stream = client.events(query, {
      ...(options.lastEventId !== undefined ? { lastEventId: options.lastEventId } : {}),
      signal: abort.signal,
      onOpen: opened,
    });
    try {
      // `during` runs once the server has subscribed this stream, so none of its changes can be missed.
      const first = stream.next();
      if (options.during) {
        await open;
        await options.during();
      }
      const head = await first;
      if (!head.done) seen.push(head.value);
      if (!enough(seen)) {
        for await (const event of stream) {
          seen.push(event);
          if (enough(seen)) break;
        }
      }
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
    if (!enough(seen)) throw new Error(`stream ended after ${seen.length} events: ${types(seen).join(', ')}`);
    return seen;
  }

  const types = (events: ServerEvent[]) =>
    events.map((e) => `${e.type}:${typeof e.data.status === 'string' ? e.data.status : ''}`);

  async function setStatus(instanceId: string, status: string): Promise<void> {
    await api.sql(`UPDATE instances SET status = $2, updated_at = now() WHERE id = $1`, [instanceId, status]);
  }

  async function createIn(client: BerthClient, name: string): Promise<{ instanceId: string; operationId: string }> {
    const res = await client.request<{ instance: { id: string }; operationId: string }>('POST', '/v1/instances', {
      body: { name, kind: 'container', flavor: 'small', image: 'busybox', network: 'lan' },
    });
    return { instanceId: res.body.instance.id, operationId: res.body.operationId };
  }

  beforeAll(async () => {
    // Streams' tokens are checked again only hourly here: a revoked token's stream must end by the revocation's
    // notification alone.
    api = await TestApi.start({ env: { BERTH_EVENT_TOKEN_CHECK_SEC: '3600' } });
    admin = await api.client();
    for (const name of ['shop', 'bank']) {
      await api.call('POST', '/v1/projects', { name });
      await api.call('POST', '/v1/users', { name: `${name}-user` });
    }
    const token = async (project: string) =>
      (await api.call('POST', '/v1/tokens', { user: `${project}-user`, project, role: 'member' })).body.token as string;
    shop = await api.client(await token('shop'));
    bank = await api.client(await token('bank'));
    const projects = (await api.call('GET', '/v1/projects')).body.items as Array<{ id: string; name: string }>;
    shopId = projects.find((p) => p.name === 'shop')!.id;
    bankId = projects.find((p) => p.name === 'bank')!.id;
    await api.call('POST', '/v1/flavors', { name: 'small', vcpus: 1, ramMb: 64, diskGb: 1 });
    await api.call('POST', '/v1/images', { name: 'busybox', kind: 'container', ref: 'busybox' });
    await api.call('POST', '/v1/networks', { name: 'lan', vlan: 100, cidr: '10.71.0.0/20', gateway: '10.71.0.1' });
  });
  afterAll(() => api.stop());

  it('streams a create as it happens, in order: instance and operation created, BUILDING -> ACTIVE', async () => {
    let created: { instanceId: string; operationId: string } | undefined;
    const seen = await read(
      shop,
      {},
      (events) => events.some((e) => e.type === 'instance.updated' && e.data.status === 'ACTIVE'),
      {
        during: async () => {
          created = await createIn(shop, 'web');
          await setStatus(created.instanceId, 'ACTIVE');
        },
      },
    );
    const mine = seen.filter((e) => e.resource.id === created!.instanceId);
    expect(types(mine)).toEqual(['instance.created:BUILDING', 'instance.updated:ACTIVE']);
    expect(seen.some((e) => e.type === 'operation.created' && e.resource.id === created!.operationId)).toBe(true);
    // Ids only grow, and each event says where it belongs.
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.seq).toBeGreaterThan(seen[i - 1]!.seq);
    for (const e of seen) expect(e.projectId).toBe(shopId);
  });

  it('resumes after a disconnect with Last-Event-ID: nothing missed, nothing repeated', async () => {
    const { instanceId } = await createIn(shop, 'resume');
    const first = await read(shop, { resource: instanceId }, (e) => e.length === 1, {
      during: () => setStatus(instanceId, 'ACTIVE'),
    });
    expect(types(first)).toEqual(['instance.updated:ACTIVE']);
    // Disconnected: these happen while no one listens.
    for (const status of ['SHUTOFF', 'ACTIVE', 'SHUTOFF', 'ACTIVE']) await setStatus(instanceId, status);
    const resumed = await read(shop, { resource: instanceId }, (e) => e.length === 4, { lastEventId: first[0]!.seq });
    expect(types(resumed)).toEqual([
      'instance.updated:SHUTOFF',
      'instance.updated:ACTIVE',
      'instance.updated:SHUTOFF',
      'instance.updated:ACTIVE',
    ]);
    expect(resumed[0]!.seq).toBeGreaterThan(first[0]!.seq);
    // And resuming from the start of history replays everything of this instance, then goes live.
    const whole = await read(shop, { resource: instanceId }, (e) => e.length === 7, {
      lastEventId: 0,
      during: () => setStatus(instanceId, 'ERROR'),
    });
    expect(types(whole)).toEqual([
      'instance.created:BUILDING',
      'instance.updated:ACTIVE',
      'instance.updated:SHUTOFF',
      'instance.updated:ACTIVE',
      'instance.updated:SHUTOFF',
      'instance.updated:ACTIVE',
      'instance.updated:ERROR',
    ]);
  });

  it('numbers events in commit order, so a transaction that commits late is not skipped by a resume', async () => {
    const early = await createIn(shop, 'early');
    const late = await createIn(shop, 'late');
    const slow = new Client({ connectionString: api.db.url });
    await slow.connect();
    try {
      // The slow transaction changes its row first and commits last.
      await slow.query('BEGIN');
      await slow.query(`UPDATE instances SET status = 'ACTIVE' WHERE id = $1`, [early.instanceId]);
      await setStatus(late.instanceId, 'ACTIVE');
      const fast = (
        await api.sql<{ seq: number }>(
          `SELECT seq::float8 AS seq FROM events WHERE resource_id = $1 ORDER BY seq DESC LIMIT 1`,
          [late.instanceId],
        )
      )[0]!.seq;
      await slow.query('COMMIT');
      // A client that saw the fast commit resumes after it and still gets the slow one.
      const resumed = await read(
        shop,
        { types: 'instance' },
        (e) => e.some((x) => x.resource.id === early.instanceId),
        {
          lastEventId: fast,
        },
      );
      expect(resumed.map((e) => [e.resource.id, e.data.status])).toEqual([[early.instanceId, 'ACTIVE']]);
      expect(resumed[0]!.seq).toBeGreaterThan(fast);
    } finally {
      await slow.end();
    }
  });

  it('never shows a tenant another project or the hosts; the admin sees all, or one project on asking', async () => {
    const shopInstance = await createIn(shop, 'mine');
    const bankInstance = await createIn(bank, 'theirs');
    await api.sql(
      `INSERT INTO hosts (name, address, drivers, vcpus, ram_mb, disk_gb, cpu_ratio, ram_ratio, disk_ratio)
       VALUES ('events-host', '10.9.9.9', '{container}', 4, 4096, 40, 1, 1, 1)`,
    );
    const history = { lastEventId: 0 };
    const adminSeen = await read(admin, {}, (e) => e.some((x) => x.resource.type === 'host'), history);
    expect([...new Set(adminSeen.map((e) => e.projectId))]).toEqual(expect.arrayContaining([shopId, bankId, null]));

    // Each tenant replays the same history and follows live changes of both projects. Events come in
    // commit order, so once a tenant has its own marker, anything of the other project would be in.
    const marker = (client: BerthClient, instanceId: string, status: string) =>
      read(client, {}, (e) => e.some((x) => x.resource.id === instanceId && x.data.status === status), {
        ...history,
        during: async () => {
          await setStatus(shopInstance.instanceId, status);
          await setStatus(bankInstance.instanceId, status);
        },
      });
    const shopSeen = await marker(shop, shopInstance.instanceId, 'SHUTOFF');
    const bankSeen = await marker(bank, bankInstance.instanceId, 'PAUSED');
    expect(shopSeen.every((e) => e.projectId === shopId)).toBe(true);
    expect(bankSeen.every((e) => e.projectId === bankId)).toBe(true);
    expect(shopSeen.some((e) => e.resource.id === bankInstance.instanceId || e.resource.type === 'host')).toBe(false);
    expect(bankSeen.some((e) => e.resource.id === shopInstance.instanceId || e.resource.type === 'host')).toBe(false);

    // The admin narrows to one project: no hosts, no other project.
    const narrowed = await read(admin, { project: bankId }, (e) => e.some((x) => x.data.status === 'PAUSED'), history);
    expect(narrowed.length).toBeGreaterThan(1);
    expect(narrowed.every((e) => e.projectId === bankId)).toBe(true);
  });

  it('streams a security group’s life to its own project only: created, a rule added and removed, deleted', async () => {
    let groupId = '';
    let ruleId = '';
    const change = async () => {
      const group = await shop.request<{ id: string }>('POST', '/v1/security-groups', { body: { name: 'evented' } });
      groupId = group.body.id;
      const rule = { direction: 'ingress', protocol: 'tcp', portMin: 443, remoteCidr: '10.0.0.0/8' };
      const added = await shop.request<{ id: string }>('POST', `/v1/security-groups/${groupId}/rules`, { body: rule });
      ruleId = added.body.id;
      await shop.request('DELETE', `/v1/security-group-rules/${ruleId}`);
      await shop.request('DELETE', `/v1/security-groups/${groupId}`);
    };
    const done = (e: ServerEvent[]) => e.some((x) => x.type === 'security_group.deleted');
    const seen = await read(shop, { types: 'security_group' }, done, { during: change });
    const mine = seen.filter((e) => e.resource.id === groupId);
    expect(
      mine.map((e) => [e.type, e.data.change ?? null, (e.data.rule as { id?: string } | undefined)?.id ?? null]),
    ).toEqual([
      ['security_group.created', null, null],
      // A new group's own rule first (egress anywhere), then the one added here, then its removal.
      ['security_group.updated', 'ruleAdded', expect.any(String)],
      ['security_group.updated', 'ruleAdded', ruleId],
      ['security_group.updated', 'ruleRemoved', ruleId],
      ['security_group.deleted', null, null],
    ]);
    expect(mine.every((e) => e.projectId === shopId && e.resource.type === 'security_group')).toBe(true);
    // The other project, replaying the same history to a marker of its own made after, sees none of it.
    const marker = await bank.request<{ id: string }>('POST', '/v1/security-groups', { body: { name: 'marker' } });
    const bankSeen = await read(
      bank,
      { types: 'security_group' },
      (e) => e.some((x) => x.resource.id === marker.body.id),
      {
        lastEventId: 0,
      },
    );
    expect(bankSeen.some((e) => e.resource.id === groupId)).toBe(false);
    expect(bankSeen.every((e) => e.projectId === bankId)).toBe(true);
  });

  it('ends a stream when its token is revoked, without waiting for a periodic check; its reconnect is a 401', async () => {
    const created = (await api.call('POST', '/v1/tokens', { user: 'shop-user', project: 'shop', role: 'reader' }))
      .body as {
      id: string;
      token: string;
    };
    const client = await api.client(created.token);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 20_000);
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const reading = (async () => {
      for await (const event of client.events({}, { signal: abort.signal, onOpen: opened })) void event;
    })();
    await open;
    expect((await api.call('DELETE', `/v1/tokens/${created.id}`)).status).toBe(204);
    await reading;
    clearTimeout(timer);
    // The server ended it, not the test's own time limit.
    expect(abort.signal.aborted).toBe(false);
    const again = await client
      .events({})
      .next()
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ApiError);
    expect((again as ApiError).status).toBe(401);
  });

  it('refuses a malformed resume token or filter with 400 naming it, and a pruned one with 410', async () => {
    const bad = await api.call('GET', '/v1/events', undefined, {
      authorization: `Bearer ${api.adminToken}`,
      'last-event-id': 'abc',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([expect.objectContaining({ field: 'Last-Event-ID', rule: 'eventId' })]);
    const types = await api.call('GET', '/v1/events?types=instance,volume');
    expect(types.status).toBe(400);
    expect(types.body.error.details[0]).toMatchObject({ field: 'types' });

    const store = new EventStore(api.dataSource);
    const head = await store.head();
    expect(head).toBeGreaterThan(0);
    const removed = await store.prune(new Date(Date.now() + 60_000));
    expect(removed).toBeGreaterThan(0);
    expect(await store.horizon()).toBe(head);
    const error = await read(shop, {}, () => true, { lastEventId: head - 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(410);
    expect((error as ApiError).body?.error.details[0]).toMatchObject({ field: 'Last-Event-ID', rule: 'retained' });
    // From the horizon on, resuming works again.
    const { instanceId } = await createIn(shop, 'after-prune');
    const after = await read(shop, { resource: instanceId }, (e) => e.length === 1, { lastEventId: head });
    expect(after[0]!.type).toBe('instance.created');
  });
});
