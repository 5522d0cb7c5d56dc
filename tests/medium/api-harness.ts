import { BerthClient } from '@berth/client';
import { jobId, PLACEMENT_QUEUE, type PlaceInstancesJob } from '@berth/contracts';
import { rows } from '@berth/data';
import { createLogger, loadEnv, type Logger } from '@berth/platform';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { createApiApp } from '../../apps/api/src/app';
import { bootstrapAdmin } from '../../apps/api/src/auth/bootstrap-admin';
import { generateToken } from '@berth/control';
import { ApiEnv } from '../../apps/api/src/config';
import { freshDatabase, type TestDatabase } from './database';
import { testRedisUrl } from './settings';

/**
 * Polls `check` until it returns a value. The bound only ends a broken run; no assertion depends
 * on how fast anything happens.
 */
export async function eventually<T>(
  check: () => Promise<T | null | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Record<string, unknown>;
}

/** The API in-process on its own fresh database and queue prefix, called through Fastify's inject. */
export class TestApi {
  private constructor(
    readonly app: NestFastifyApplication,
    readonly db: TestDatabase,
    readonly env: ApiEnv,
    readonly adminToken: string,
  ) {}

  static async start(options: { log?: Logger; env?: Record<string, string> } = {}): Promise<TestApi> {
    const db = await freshDatabase();
    const adminToken = generateToken();
    const env = loadEnv(ApiEnv, {
      BERTH_DATABASE_URL: db.url,
      BERTH_REDIS_URL: testRedisUrl(),
      BERTH_QUEUE_PREFIX: `t${randomBytes(5).toString('hex')}`,
      BERTH_ADMIN_TOKEN: adminToken,
      BERTH_DB_POOL_SIZE: '10',
      // No agent answers console queries in this tier: fail them fast.
      BERTH_CONSOLE_TIMEOUT_MS: '300',
      // Event streams check their token every second, so a revocation test ends quickly.
      BERTH_EVENT_TOKEN_CHECK_SEC: '1',
      // Every test calls from one address with a few tokens, and many on purpose with bad ones: the request limits are
      // far out of reach unless a test sets its own (rate-limits.medium.ts).
      BERTH_RATE_TOKEN_PER_MIN: '1000000',
      BERTH_RATE_ADDRESS_PER_MIN: '1000000',
      BERTH_RATE_AUTH_FAILURES: '1000000',
      BERTH_SECRET_KEY: randomBytes(32).toString('base64'),
      ...options.env,
    });
    const log = options.log ?? createLogger('api-test', 'silent');
    const app = await createApiApp(env, log);
    await bootstrapAdmin(app.get(DataSource), { token: adminToken, tokenFile: '/dev/null' }, log);
    return new TestApi(app, db, env, adminToken);
  }

  private listening: Promise<string> | null = null;

  /** The API on a real port too (127.0.0.1, any free port), for what inject cannot do: streams. */
  baseUrl(): Promise<string> {
    this.listening ??= this.app.listen({ port: 0, host: '127.0.0.1' }).then(() => {
      const address = this.app.getHttpServer().address() as AddressInfo;
      return `http://127.0.0.1:${address.port}`;
    });
    return this.listening;
  }

  /** A client of the real port, as the CLI uses it. */
  async client(token = this.adminToken): Promise<BerthClient> {
    return new BerthClient({ url: await this.baseUrl(), token });
  }

  /**
   * One request, through inject, except for the event stream: inject waits for a response to end
   * and a stream never does, so that goes over the real port and is closed once its head is read.
   */
  async request(options: {
    method: Method;
    url: string;
    headers?: Record<string, string>;
    payload?: string;
  }): Promise<{ statusCode: number; headers: Record<string, unknown>; body: string }> {
    const { pathname } = new URL(options.url, 'http://api');
    if (options.method !== 'GET' || pathname !== '/v1/events') {
      const res = await this.app.inject(options);
      return { statusCode: res.statusCode, headers: res.headers, body: res.body };
    }
    const abort = new AbortController();
    const res = await fetch((await this.baseUrl()) + options.url, {
      headers: options.headers ?? {},
      signal: abort.signal,
    });
    const headers = Object.fromEntries(res.headers);
    if (String(headers['content-type']).startsWith('text/event-stream')) {
      abort.abort();
      return { statusCode: res.status, headers, body: '' };
    }
    return { statusCode: res.status, headers, body: await res.text() };
  }

  get dataSource(): DataSource {
    return this.app.get(DataSource);
  }

  async call<T = any>(
    method: Method,
    url: string,
    body?: unknown,
    headers: Record<string, string> = { authorization: `Bearer ${this.adminToken}` },
  ): Promise<Answer<T>> {
    const res = await this.request({
      method,
      url,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return {
      status: res.statusCode,
      // JSON, but for the Prometheus text of /metrics.
      body: (!res.body
        ? undefined
        : String(res.headers['content-type']).includes('json')
          ? JSON.parse(res.body)
          : res.body) as T,
      headers: res.headers,
    };
  }

  /**
   * Counts rows, to prove that a refused request wrote nothing. The outbox is left out: the relay
   * drains it at any moment, and its rows only ever commit with an instance or operation row.
   */
  async counts(): Promise<Record<string, number>> {
    const [row] = await this.sql<Record<string, number>>(
      `SELECT (SELECT count(*) FROM instances)::int AS instances, (SELECT count(*) FROM ports)::int AS ports,
              (SELECT count(*) FROM operations)::int AS operations, (SELECT count(*) FROM networks)::int AS networks,
              (SELECT count(*) FROM flavors)::int AS flavors, (SELECT count(*) FROM images)::int AS images`,
    );
    return row ?? {};
  }

  /** Lifts every quota of a project (default: the admin's), for tests that create many instances. */
  async unlimitedQuota(project = 'admin'): Promise<void> {
    const [row] = await this.sql<{ id: string }>('SELECT id FROM projects WHERE name = $1', [project]);
    const res = await this.call('PUT', `/v1/projects/${row?.id}/quotas`, {
      instances: -1,
      vcpus: -1,
      ramMb: -1,
      diskGb: -1,
      ips: -1,
    });
    if (res.status !== 200) throw new Error(`could not lift quotas: ${JSON.stringify(res.body)}`);
  }

  /**
   * The placement job an operation's create sent, read from Redis where the relay delivers it (its outbox
   * row is gone the moment the relay has sent it, so reading the outbox would race the relay).
   */
  async placementJob(operationId: string): Promise<PlaceInstancesJob> {
    const redis = new IORedis(testRedisUrl(), { maxRetriesPerRequest: null });
    const queue = new Queue(PLACEMENT_QUEUE, { connection: redis, prefix: this.env.BERTH_QUEUE_PREFIX });
    try {
      const job = await eventually(
        () => queue.getJob(jobId(operationId, 'place')),
        `the placement job of ${operationId}`,
      );
      return job.data as PlaceInstancesJob;
    } finally {
      await queue.close();
      await redis.quit();
    }
  }

  /** Rows of one SQL statement against this test's database. */
  sql<T>(text: string, params: unknown[] = []): Promise<T[]> {
    return rows<T>(this.dataSource.manager, text, params);
  }

  async stop(): Promise<void> {
    await this.app.close();
    const redis = new IORedis(testRedisUrl());
    const keys = await redis.keys(`${this.env.BERTH_QUEUE_PREFIX}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await this.db.drop();
  }
}
