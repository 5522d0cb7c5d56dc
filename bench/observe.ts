/**
 * bench/observe: what watching the cloud costs.
 *
 * 1. Usage of one running container: GET /v1/instances/:id/stats?interval=1 against the raw tool,
 *    `docker stats --no-stream` of the same container (which also samples twice, about a second
 *    apart), interleaved, 10 of each.
 * 2. A scrape of the agent's /metrics with 6 running containers (their berth_instance_* series read
 *    at the scrape) against `docker stats --no-stream` of the same 6 containers.
 * 3. Event latency: from an UPDATE of a host row (its disabled reason, on a row the bench adds and
 *    removes, never scheduled on) to its event at an SSE client of GET /v1/events, against
 *    PostgreSQL's own NOTIFY to a LISTEN client, each timed from just before its statement, 200 of each.
 *
 *   deploy/up.sh && . .berth/env && node dist/bench/observe.js
 */
import { BerthClient } from '@berth/client';
import { runCommand } from '@berth/platform';
import { Client } from 'pg';
import { randomInt } from 'node:crypto';
import { api, assertStack, finished } from './support/api';
import { machineLine, writeSection } from './support/report';
import { median, ms, percentile } from './support/stats';

const DOCKER = '/usr/bin/docker';
/** Containers running during the scrape; the local host has room for 8 tiny ones (2 CPUs, ratio 4). */
const INSTANCES = 6;
const DB_URL = process.env['BERTH_BENCH_DATABASE_URL'] ?? 'postgres://berth:berth@127.0.0.1:5432/berth';
const net = `10.${randomInt(200, 250)}.${randomInt(0, 255)}`;

const timed = async (fn: () => Promise<unknown>) => {
  const started = performance.now();
  await fn();
  return performance.now() - started;
};

const row = (name: string, values: number[]) =>
  `| ${name} | ${ms(median(values))} | ${ms(percentile(values, 90))} | ${ms(Math.min(...values))} | ${ms(Math.max(...values))} |`;

async function main(): Promise<void> {
  assertStack();
  const client = new BerthClient({ url: process.env['BERTH_URL']!, token: process.env['BERTH_TOKEN']! });
  await api('POST', '/v1/networks', { name: 'bench-observe', vlan: 3999, cidr: `${net}.0/24`, gateway: `${net}.1` });
  const ids: string[] = [];
  const db = new Client({ connectionString: DB_URL });
  await db.connect();
  const listener = new Client({ connectionString: DB_URL });
  await listener.connect();
  const abort = new AbortController();
  try {
    const created = await api('POST', '/v1/instances', {
      name: 'bench-observe',
      kind: 'container',
      flavor: 'm1.tiny',
      image: 'busybox',
      network: 'bench-observe',
      count: INSTANCES,
    });
    const builds = created.instances as Array<{ instance: { id: string }; operationId: string }>;
    // Recorded before waiting, so that a failed build is cleaned up too.
    ids.push(...builds.map((b) => b.instance.id));
    for (const b of builds) await finished(b.operationId);
    const first = ids[0]!;

    // 1. One instance's usage.
    const statsBerth: number[] = [];
    const statsDocker: number[] = [];
    for (let i = 0; i < 10; i++) {
      statsBerth.push(await timed(() => api('GET', `/v1/instances/${first}/stats?interval=1`)));
      statsDocker.push(await timed(() => runCommand([DOCKER, 'stats', '--no-stream', `berth-${first}`])));
    }

    // 2. Every instance's series in one scrape.
    const metricsUrl = process.env['BERTH_AGENT_METRICS_URL'] ?? 'http://127.0.0.1:9102/metrics';
    const scrape: number[] = [];
    const dockerAll: number[] = [];
    for (let i = 0; i < 10; i++) {
      scrape.push(
        await timed(async () => {
          const text = await (await fetch(metricsUrl)).text();
          const series = text.match(/^berth_instance_cpu_seconds_total\{/gm)?.length ?? 0;
          if (series < INSTANCES) throw new Error(`the scrape has ${series} instance series, expected ${INSTANCES}`);
        }),
      );
      dockerAll.push(
        await timed(() => runCommand([DOCKER, 'stats', '--no-stream', ...ids.map((id) => `berth-${id}`)])),
      );
    }

    // 3. Event latency against LISTEN/NOTIFY.
    const hostName = `bench-events-${randomInt(1e6)}`;
    const [{ id: hostId }] = (
      await db.query<{ id: string }>(
        `INSERT INTO hosts (name, address, drivers, vcpus, ram_mb, disk_gb, cpu_ratio, ram_ratio, disk_ratio, enabled, disabled_reason)
         VALUES ($1, '192.0.2.1', '{container}', 1, 1024, 1, 1, 1, 1, false, 'bench') RETURNING id`,
        [hostName],
      )
    ).rows as [{ id: string }];
    const waiting = new Map<string, (at: number) => void>();
    let opened!: () => void;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const reading = (async () => {
      for await (const event of client.events(
        { resource: hostId, types: 'host' },
        { signal: abort.signal, onOpen: opened },
      )) {
        waiting.get(String(event.data['disabledReason']))?.(performance.now());
      }
    })().catch(() => undefined);
    await open;
    await listener.query('LISTEN bench_observe');
    listener.on('notification', (n) => waiting.get(n.payload ?? '')?.(performance.now()));
    const arrival = (key: string) => new Promise<number>((resolve) => waiting.set(key, resolve));
    const viaBerth: number[] = [];
    const viaNotify: number[] = [];
    for (let i = 0; i < 200; i++) {
      const key = `bench-${i}`;
      // Both from just before the statement: its commit round trip is in both figures alike (a
      // notification can reach the listener before the committing client has its answer).
      const seen = arrival(key);
      const changed = performance.now();
      await db.query('UPDATE hosts SET disabled_reason = $1 WHERE id = $2', [key, hostId]);
      viaBerth.push((await seen) - changed);
      const raw = `raw-${i}`;
      const heard = arrival(raw);
      const sent = performance.now();
      await db.query('SELECT pg_notify($1, $2)', ['bench_observe', raw]);
      viaNotify.push((await heard) - sent);
    }
    abort.abort();
    await reading;
    await db.query('DELETE FROM hosts WHERE id = $1', [hostId]);

    const ratio = (a: number[], b: number[]) => (median(a) / median(b)).toFixed(2);
    const sub = (v: number) => `${v.toFixed(2)} ms`;
    const subRow = (name: string, values: number[]) =>
      `| ${name} | ${sub(median(values))} | ${sub(percentile(values, 90))} | ${sub(Math.min(...values))} | ${sub(Math.max(...values))} |`;
    writeSection(
      'observe',
      `
## observe

\`node dist/bench/observe.js\`: usage of a running container, a scrape of every instance's series, and
event latency, each against the raw tool in the same run. ${machineLine()}

| | median | p90 | min | max |
|---|---|---|---|---|
${row('Berth: GET /v1/instances/:id/stats?interval=1 (two readings 1 s apart, on the host)', statsBerth)}
${row('by hand: docker stats --no-stream (one container)', statsDocker)}
${row(`Berth: a scrape of the agent's /metrics (${INSTANCES} containers' series)`, scrape)}
${row(`by hand: docker stats --no-stream (the same ${INSTANCES} containers)`, dockerAll)}
${subRow('Berth: UPDATE of a host row → its event at an SSE client', viaBerth)}
${subRow('by hand: SELECT pg_notify → a LISTEN client', viaNotify)}

Ratios of the medians (Berth / by hand): stats ${ratio(statsBerth, statsDocker)}, scrape of ${INSTANCES} ${ratio(scrape, dockerAll)},
event delivery ${ratio(viaBerth, viaNotify)}. The stats call waits its 1 s interval on purpose (rates need two
readings); docker stats waits for its own two samples. An event is one more query (the hub reads the new rows in
seq order after the notification) and the SSE write on top of LISTEN/NOTIFY.
`,
    );
    process.stdout.write(
      `stats ${ms(median(statsBerth))} vs ${ms(median(statsDocker))}; scrape ${ms(median(scrape))} vs ${ms(median(dockerAll))}; events ${sub(median(viaBerth))} vs ${sub(median(viaNotify))}\n`,
    );
  } finally {
    abort.abort();
    for (const id of ids) {
      const res = await api('DELETE', `/v1/instances/${id}`).catch(() => null);
      if (res) await finished(res.operationId as string).catch(() => undefined);
    }
    await api(
      'DELETE',
      `/v1/networks/${(await api('GET', '/v1/networks')).items.find((n: any) => n.name === 'bench-observe')?.id}`,
    ).catch(() => undefined);
    await db.end();
    await listener.end();
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
