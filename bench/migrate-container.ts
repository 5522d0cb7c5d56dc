/**
 * bench/migrate-container: cold migrations of a container between two testbed hosts, each timed from
 * POST migrate to the migration confirmed (the source cleaned), against the stack deploy/up.sh runs
 * with deploy/testbed.sh's hosts tb1 and tb2. Interleaved with each, the same move by hand between the
 * same two dockerds: docker stop, commit, push, pull, run, rm. Writes the medians and their ratio to
 * docs/benchmarks.md.
 *
 *   deploy/up.sh && deploy/testbed.sh up 2 && . .berth/env && node dist/bench/migrate-container.js [count]
 */
import { runCommand } from '@berth/platform';
import { randomBytes, randomInt } from 'node:crypto';
import { api, assertStack, finished } from './support/api';
import { machineLine, writeSection } from './support/report';
import { median, ms, percentile } from './support/stats';

const DOCKER = '/usr/bin/docker';
const REGISTRY = '10.250.0.1:5000';
const IMAGE = `${REGISTRY}/busybox:latest`;
const count = Number(process.argv[2] ?? 5);
const net = `10.${randomInt(200, 250)}.${randomInt(0, 255)}`;
const on = (host: string, ...args: string[]) =>
  runCommand([DOCKER, '-H', `unix:///run/berth-testbed/${host}/docker.sock`, ...args], { timeoutMs: 120_000 });
/** 1 MiB the instance wrote to its own filesystem, so the snapshot carries data. */
const WRITE = 'dd if=/dev/urandom of=/data.bin bs=1M count=1 2>/dev/null';

async function setEnabled(hosts: Array<{ id: string }>, enabled: boolean): Promise<void> {
  for (const h of hosts) {
    await api('PATCH', `/v1/hosts/${h.id}`, enabled ? { enabled } : { enabled, disabledReason: 'bench' });
  }
  // The schedulers see host changes within BERTH_HOST_CACHE_MS (1 s by default).
  await new Promise((r) => setTimeout(r, 1200));
}

/** Berth: migrate tb1 -> tb2 and confirm; returns the time to VERIFY_MIGRATION and to the end of the confirm. */
async function berthMove(i: number, hosts: Record<string, { id: string }>) {
  await setEnabled([hosts['tb2']!], false);
  const created = await api('POST', '/v1/instances', {
    name: `bench-mig-${i}`,
    kind: 'container',
    flavor: 'm1.tiny',
    image: 'busybox-tb',
    network: 'bench-mig',
  });
  await finished(created.operationId);
  await setEnabled([hosts['tb2']!], true);
  const id = created.instance.id as string;
  await on('tb1', 'exec', `berth-${id}`, 'sh', '-c', WRITE);
  const started = performance.now();
  const moved = await api('POST', `/v1/instances/${id}/actions`, { action: 'migrate', host: 'tb2' });
  await finished(moved.operationId);
  const verify = performance.now() - started;
  const confirmed = await api('POST', `/v1/instances/${id}/actions`, { action: 'confirm' });
  await finished(confirmed.operationId);
  const total = performance.now() - started;
  const deleted = await api('DELETE', `/v1/instances/${id}`);
  await finished(deleted.operationId);
  return { verify, total };
}

/** The same move typed by hand: no network plumbing, no limits, no read-back, no record. */
async function handMove(i: number): Promise<number> {
  const name = `bench-hand-mig-${i}-${randomBytes(3).toString('hex')}`;
  const snapshot = `${REGISTRY}/bench-snapshots/${name}:1`;
  await on('tb1', 'run', '-d', '--network', 'none', '--init', '--name', name, IMAGE, 'sleep', 'infinity');
  await on('tb1', 'exec', name, 'sh', '-c', WRITE);
  const started = performance.now();
  await on('tb1', 'stop', '-t', '5', name);
  await on('tb1', 'commit', name, snapshot);
  await on('tb1', 'push', '-q', snapshot);
  await on('tb2', 'pull', '-q', snapshot);
  await on('tb2', 'run', '-d', '--network', 'none', '--init', '--name', name, snapshot, 'sleep', 'infinity');
  await on('tb1', 'rm', '-f', name);
  await on('tb1', 'rmi', snapshot);
  const took = performance.now() - started;
  await on('tb2', 'rm', '-f', name);
  await on('tb2', 'rmi', snapshot);
  return took;
}

async function main(): Promise<void> {
  assertStack();
  const all = (await api('GET', '/v1/hosts')).items as Array<{ id: string; name: string; state: string }>;
  const hosts = Object.fromEntries(all.map((h) => [h.name, h]));
  if (hosts['tb1']?.state !== 'up' || hosts['tb2']?.state !== 'up') {
    throw new Error('hosts tb1 and tb2 must be up: run deploy/testbed.sh up 2');
  }
  const others = all.filter((h) => h.name !== 'tb1' && h.name !== 'tb2');
  const images = (await api('GET', '/v1/images')).items as Array<{ name: string }>;
  if (!images.some((i) => i.name === 'busybox-tb')) {
    await api('POST', '/v1/images', { name: 'busybox-tb', kind: 'container', ref: IMAGE });
  }
  const network = await api('POST', '/v1/networks', {
    name: 'bench-mig',
    vlan: 3902,
    cidr: `${net}.0/24`,
    gateway: `${net}.1`,
  });
  const berthVerify: number[] = [];
  const berthTotal: number[] = [];
  const hand: number[] = [];
  await setEnabled(others, false);
  try {
    await berthMove(99, hosts); // warm-up, not counted
    await handMove(99);
    for (let i = 0; i < count; i += 1) {
      const b = await berthMove(i, hosts);
      berthVerify.push(b.verify);
      berthTotal.push(b.total);
      hand.push(await handMove(i));
    }
  } finally {
    await setEnabled(others, true);
    await api('DELETE', `/v1/networks/${network.id}`).catch((error: unknown) => console.error(String(error)));
  }

  const ratio = median(berthTotal) / median(hand);
  const row = (label: string, v: number[]) =>
    `| ${label} | ${ms(median(v))} | ${ms(percentile(v, 90))} | ${ms(Math.min(...v))} | ${ms(Math.max(...v))} |`;
  const table = [
    '| | median | p90 | min | max |',
    '|---|---|---|---|---|',
    row('Berth: POST migrate → VERIFY_MIGRATION on tb2', berthVerify),
    row('Berth: POST migrate → confirmed (tb1 cleaned)', berthTotal),
    row('by hand: stop, commit, push, pull, run, rm', hand),
  ].join('\n');
  console.log(table);
  console.log(`ratio ${ratio.toFixed(2)}`);
  writeSection(
    'migrate-container',
    `## migrate-container

\`node dist/bench/migrate-container.js ${count}\`: ${count} cold migrations of a busybox container (m1.tiny) that wrote
1 MiB to its own filesystem, from testbed host tb1 to tb2 (each a namespace with its own dockerd and OVS, the
registry on the underlay), timed from \`POST /v1/instances/:id/actions {migrate}\` to the migration confirmed, with
the time to \`VERIFY_MIGRATION\` on the way. Interleaved with them, the same move by hand between the same two
dockerds: \`docker stop\`, \`commit\`, \`push\`, \`pull\`, \`run\`, \`rm\` and \`rmi\` on the source. Berth also plugs the
port on the target (veth, OVS, address), applies and reads back every limit, deletes the snapshot's registry
manifest and records each step; the hand run does none of that. ${machineLine()}

${table}

**Ratio Berth (to confirmed) / by hand (medians): ${ratio.toFixed(2)}**.`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
