import { computeQueue, type InstanceTerminalCommand } from '@berth/contracts';
import { FakeDriver, noSteps } from '@berth/drivers';
import { sampleSpec } from '@berth/drivers/testing';
import { createLogger } from '@berth/platform';
import { PubSub, QueueProducer, startWorker, type RunningWorker } from '@berth/queue';
import WebSocket from 'ws';
import { TerminalSessions } from '../../../apps/compute-agent/src/terminals';
import { TestApi } from '../api-harness';

/**
 * The interactive console through the real API, Redis and the agent's relay (its driver the fake one, whose terminal
 * echoes a line discipline): who may open one, what the host refuses, the bytes both ways, the token's revocation,
 * and the audit trail. The real shell and serial console: terminal.system.ts and the end-to-end tier.
 */
describe('the interactive console (WebSocket, real API and Redis, fake hypervisor)', () => {
  const HOST = 'term-host';
  const log = createLogger('terminal-test', 'silent');
  let api: TestApi;
  let base: string;
  let driver: FakeDriver;
  let bus: PubSub;
  let sessions: TerminalSessions;
  let worker: RunningWorker;
  let instanceId: string;
  let member: { token: string; id: string };
  let reader: string;
  let outsider: string;

  interface Opened {
    ws: WebSocket;
    output: () => string;
    control: string[];
    closed: Promise<{ code: number; reason: string }>;
  }

  /** Opens the console the way a browser does: the token as the second subprotocol. */
  function open(token: string, id = instanceId, query = ''): Promise<Opened> {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/v1/instances/${id}/terminal${query}`, [
      'berth.terminal.v1',
      `berth.token.${token}`,
    ]);
    const chunks: Buffer[] = [];
    const control: string[] = [];
    ws.on('message', (data: Buffer, binary: boolean) => (binary ? chunks.push(data) : control.push(data.toString())));
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    return new Promise((resolve, reject) => {
      ws.on('open', () => resolve({ ws, output: () => Buffer.concat(chunks).toString(), control, closed }));
      ws.on('unexpected-response', (req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          req.destroy();
          reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body }));
        });
      });
      ws.on('error', reject);
    });
  }

  async function refusal(promise: Promise<unknown>): Promise<{ status: number; body: any }> {
    const error = (await promise.then(
      () => null,
      (e: unknown) => e,
    )) as { status: number; body: string } | null;
    if (!error) throw new Error('the upgrade was not refused');
    return { status: error.status, body: JSON.parse(error.body) };
  }

  /** The status of a refused upgrade (the request is then let go). */
  function refusedStatus(ws: WebSocket): Promise<number> {
    return new Promise((resolve) =>
      ws.on('unexpected-response', (req, res) => {
        req.destroy();
        resolve(res.statusCode ?? 0);
      }),
    );
  }

  async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  beforeAll(async () => {
    api = await TestApi.start({ env: { BERTH_CONSOLE_TIMEOUT_MS: '2000' } });
    base = await api.baseUrl();
    driver = new FakeDriver('container');
    bus = new PubSub(api.env.BERTH_REDIS_URL, log);
    sessions = new TerminalSessions(new Map([['container', driver]]), bus, api.env.BERTH_QUEUE_PREFIX, HOST, log);
    const settings = { redisUrl: api.env.BERTH_REDIS_URL, prefix: api.env.BERTH_QUEUE_PREFIX };
    worker = startWorker<InstanceTerminalCommand>(settings, computeQueue(HOST), (job) => sessions.open(job.data), {
      concurrency: 4,
      log,
    });
    for (const name of ['shop', 'bank']) {
      await api.call('POST', '/v1/projects', { name });
      await api.call('POST', '/v1/users', { name: `${name}-user` });
    }
    const mint = async (project: string, role: string) =>
      (await api.call('POST', '/v1/tokens', { user: `${project}-user`, project, role })).body as {
        id: string;
        token: string;
      };
    member = await mint('shop', 'member');
    reader = (await mint('shop', 'reader')).token;
    outsider = (await mint('bank', 'member')).token;
    await api.call('POST', '/v1/flavors', { name: 'small', vcpus: 1, ramMb: 64, diskGb: 1 });
    await api.call('POST', '/v1/images', { name: 'busybox', kind: 'container', ref: 'busybox' });
    await api.call('POST', '/v1/networks', { name: 'lan', vlan: 100, cidr: '10.72.0.0/20', gateway: '10.72.0.1' });
    const [{ id: hostId }] = (await api.sql<{ id: string }>(
      `INSERT INTO hosts (name, address, drivers, vcpus, ram_mb, disk_gb, cpu_ratio, ram_ratio, disk_ratio, last_heartbeat_at)
       VALUES ($1, '192.0.2.9', '{container}', 8, 8192, 100, 1, 1, 1, now()) RETURNING id`,
      [HOST],
    )) as [{ id: string }];
    const created = await api.call(
      'POST',
      '/v1/instances',
      { name: 'web', kind: 'container', flavor: 'small', image: 'busybox', network: 'lan' },
      { authorization: `Bearer ${member.token}` },
    );
    instanceId = created.body.instance.id;
    await api.sql(
      `UPDATE instances SET status = 'ACTIVE', task_state = NULL, power_state = 'RUNNING', host_id = $2 WHERE id = $1`,
      [instanceId, hostId],
    );
    await driver.spawn(sampleSpec({ id: instanceId }), noSteps);
  });
  afterAll(async () => {
    await worker?.close();
    await sessions?.closeAll();
    bus?.close();
    const producer = new QueueProducer({ redisUrl: api.env.BERTH_REDIS_URL, prefix: api.env.BERTH_QUEUE_PREFIX });
    await producer.queue(computeQueue(HOST)).obliterate({ force: true });
    await producer.close();
    await api?.stop();
  });

  it("opens a member's own instance: keystrokes reach the terminal, its output comes back, exit ends it", async () => {
    const t = await open(member.token, instanceId, '?cols=120&rows=40');
    expect(t.ws.protocol).toBe('berth.terminal.v1');
    await until(() => t.control.length > 0, 'the opened message');
    expect(JSON.parse(t.control[0]!)).toEqual({ type: 'opened', kind: 'shell' });
    t.ws.send(JSON.stringify({ type: 'resize', cols: 100, rows: 30 }));
    t.ws.send(Buffer.from('echo hello\r'), { binary: true });
    await until(() => t.output().includes('echo hello\r\n$ '), 'the echo');
    t.ws.send(Buffer.from('exit\r'), { binary: true });
    expect(await t.closed).toEqual({ code: 1000, reason: 'the shell exited' });
    await until(() => sessions.size === 0, 'the host to forget the session');

    // The audit trail: who opened what, and how it ended (recorded as the session ends).
    const consoleOps = async () =>
      (await api.call('GET', `/v1/operations?action=instance.console&target=${instanceId}`)).body.items as any[];
    const end = Date.now() + 5000;
    while ((await consoleOps())[0]?.steps.length !== 2 && Date.now() < end) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const op = (await consoleOps())[0];
    expect(op).toMatchObject({ status: 'succeeded', userId: expect.any(String), targetId: instanceId });
    expect(op.steps.map((s: any) => [s.name, s.status, s.detail])).toEqual([
      ['open', 'succeeded', 'a shell in the container'],
      ['close', 'succeeded', 'the shell exited; 16 bytes typed, 22 bytes shown'],
    ]);
  });

  it('hangs the terminal up on the host when the viewer leaves', async () => {
    const t = await open(member.token);
    await until(() => sessions.size === 1, 'the session on the host');
    t.ws.close();
    await until(() => sessions.size === 0, 'the hang-up on the host');
  });

  it('closes the console with 4401 the moment its token is revoked', async () => {
    const token = (await api.call('POST', '/v1/tokens', { user: 'shop-user', project: 'shop', role: 'member' }))
      .body as { id: string; token: string };
    const t = await open(token.token);
    await until(() => t.control.length > 0, 'the opened message');
    expect((await api.call('DELETE', `/v1/tokens/${token.id}`)).status).toBe(204);
    expect(await t.closed).toEqual({ code: 4401, reason: 'the token was revoked or expired' });
    await until(() => sessions.size === 0, 'the hang-up on the host');
  });

  it('refuses before the upgrade: no token, a token in the URL, a reader, another project, bad sizes', async () => {
    const anonymous = new WebSocket(`${base.replace('http', 'ws')}/v1/instances/${instanceId}/terminal`);
    expect(await refusedStatus(anonymous)).toBe(401);
    expect((await refusal(open('not-a-token'))).status).toBe(401);
    const inUrl = new WebSocket(
      `${base.replace('http', 'ws')}/v1/instances/${instanceId}/terminal?token=${member.token}`,
    );
    expect(await refusedStatus(inUrl)).toBe(401);
    const asReader = await refusal(open(reader));
    expect(asReader).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    const asOutsider = await refusal(open(outsider));
    expect(asOutsider).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    const badSize = await refusal(open(member.token, instanceId, '?cols=0&rows=abc'));
    expect(badSize.status).toBe(400);
    expect(badSize.body.error.details.map((d: any) => [d.field, d.rule])).toEqual([
      ['cols', 'range'],
      ['rows', 'range'],
    ]);
    expect(sessions.size).toBe(0);
  });

  it('answers 409 for an instance that is not running, and 4409 with the reason when the host finds it stopped', async () => {
    await api.sql(`UPDATE instances SET power_state = 'SHUTDOWN', status = 'SHUTOFF' WHERE id = $1`, [instanceId]);
    const stopped = await refusal(open(member.token));
    expect(stopped).toMatchObject({ status: 409, body: { error: { details: [{ field: 'id', rule: 'running' }] } } });
    await api.sql(`UPDATE instances SET power_state = 'RUNNING', status = 'ACTIVE' WHERE id = $1`, [instanceId]);

    // The record says it runs; the host knows better.
    await driver.powerOff(sampleSpec({ id: instanceId }), noSteps);
    const t = await open(member.token);
    expect(await t.closed).toEqual({ code: 4409, reason: `instance ${instanceId} is not running` });
    await driver.powerOn(sampleSpec({ id: instanceId }), noSteps);
    const ops = await api.call('GET', `/v1/operations?action=instance.console&target=${instanceId}&status=failed`);
    expect(ops.body.items[0]).toMatchObject({
      status: 'failed',
      fault: { step: 'open', message: `instance ${instanceId} is not running` },
    });
  });

  it('closes with 4503 when the host does not answer', async () => {
    const [{ id: silentHost }] = (await api.sql<{ id: string }>(
      `INSERT INTO hosts (name, address, drivers, vcpus, ram_mb, disk_gb, cpu_ratio, ram_ratio, disk_ratio, last_heartbeat_at)
       VALUES ('silent-host', '192.0.2.10', '{container}', 8, 8192, 100, 1, 1, 1, now()) RETURNING id`,
    )) as [{ id: string }];
    await api.sql(`UPDATE instances SET host_id = $2 WHERE id = $1`, [instanceId, silentHost]);
    try {
      const t = await open(member.token);
      const closed = await t.closed;
      expect(closed.code).toBe(4503);
      expect(closed.reason).toMatch(/^host silent-host did not open the console within 2000 ms/);
    } finally {
      await api.sql(`UPDATE instances SET host_id = (SELECT id FROM hosts WHERE name = $2) WHERE id = $1`, [
        instanceId,
        HOST,
      ]);
      const producer = new QueueProducer({ redisUrl: api.env.BERTH_REDIS_URL, prefix: api.env.BERTH_QUEUE_PREFIX });
      await producer.queue(computeQueue('silent-host')).obliterate({ force: true });
      await producer.close();
    }
  });
});
