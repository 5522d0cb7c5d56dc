import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { errorMessage, type Logger } from './logger';

/** How long a readiness check waits for a dependency before calling it down. */
const CHECK_TIMEOUT_MS = 2000;

export interface OpsServerOptions {
  host: string;
  /** 0: any free port (tests read it back from `port`). */
  port: number;
  /** Metric name prefix of the process's own figures, e.g. `berth_scheduler_`. */
  prefix: string;
  /** Each dependency's check: resolves when it answers. */
  checks: Record<string, () => Promise<unknown>>;
  log: Logger;
}

export interface OpsServer {
  readonly registry: Registry;
  /** 0 when the address could not be bound (logged): the process then runs without serving these. */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * What a process without an HTTP API of its own (the scheduler, a compute agent) serves to its
 * operators: `/healthz` (it answers), `/readyz` (each dependency answers, 503 naming the ones that do
 * not) and `/metrics` (Prometheus text: the process's own figures and whatever the caller registers).
 * It binds to loopback unless told otherwise; Prometheus on another machine needs BERTH_METRICS_HOST.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: options.prefix });
  const server: Server = createServer((req, res) => {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET') return send(405, 'text/plain', 'method not allowed\n');
    if (path === '/healthz') return send(200, 'application/json', JSON.stringify({ status: 'ok' }));
    if (path === '/readyz') {
      void readiness(options.checks).then((checks) => {
        const ready = Object.values(checks).every((c) => c === 'ok');
        send(ready ? 200 : 503, 'application/json', JSON.stringify({ status: ready ? 'ready' : 'not ready', checks }));
      });
      return undefined;
    }
    if (path === '/metrics') {
      void registry.metrics().then(
        (text) => send(200, registry.contentType, text),
        (error: unknown) => send(500, 'text/plain', `metrics failed: ${errorMessage(error)}\n`),
      );
      return undefined;
    }
    return send(404, 'text/plain', 'not found\n');
  });
  try {
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(options.port, options.host, () => done());
    });
  } catch (error) {
    // A taken port must not keep a scheduler or a host's agent from working: it runs unobserved.
    options.log.error(
      { host: options.host, port: options.port, err: errorMessage(error) },
      'health and metrics not served',
    );
    return { registry, port: 0, close: () => Promise.resolve() };
  }
  const { port } = server.address() as AddressInfo;
  options.log.info({ host: options.host, port }, 'health and metrics served');
  return {
    registry,
    port,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** 'ok' for each dependency that answered within the timeout, or why it did not. */
export async function readiness(checks: Record<string, () => Promise<unknown>>): Promise<Record<string, string>> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, probe]) => [name, await bounded(probe)] as const),
  );
  return Object.fromEntries(results);
}

async function bounded(probe: () => Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, fail) => {
        timer = setTimeout(() => fail(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (error) {
    return errorMessage(error);
  } finally {
    clearTimeout(timer);
  }
}
