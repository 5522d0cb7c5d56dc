/**
 * bench/live-resize: how long a live limits change takes, and how closely the kernel then holds it.
 *
 * 1. 20 live resizes of a running container, alternating between two flavors (1 vCPU and 256 MB,
 *    2 vCPUs and 2 GB) with new throttles
 *    (CPU, memory, pids, disk write bytes/s, bandwidth both ways), each timed from the POST to the
 *    operation's success, which includes the agent reading every limit back. Interleaved with them, the
 *    same change typed by hand on a twin container: docker update, the blkio file, the QoS and Queue
 *    rows, the meter (no read-back).
 * 2. Enforcement: with 5 MiB/s and then 20 IOPS of disk writes, O_DIRECT writes timed inside the
 *    container; with 20 Mbit/s each way, iperf3 between two instances on one VLAN.
 *
 *   deploy/up.sh && . .berth/env && node dist/bench/live-resize.js [count]
 */
import { blockDeviceOf, cgroupsOfProcess } from '@berth/cgroups';
import { runCommand } from '@berth/platform';
import { randomInt } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { api, assertStack, finished } from './support/api';
import { iperf } from './support/iperf';
import { machineLine, writeSection } from './support/report';
import { median, ms, percentile } from './support/stats';

const DOCKER = '/usr/bin/docker';
const MIB = 1024 * 1024;
const count = Number(process.argv[2] ?? 20);
const bridge = process.env['BERTH_OVS_BRIDGE'] ?? 'br-int';
const net = `10.${randomInt(200, 250)}.${randomInt(0, 255)}`;

async function create(name: string): Promise<any> {
  const created = await api('POST', '/v1/instances', {
    name,
    kind: 'container',
    flavor: 'bench.small',
    image: 'busybox',
    network: 'bench-limits',
    limits: { netIngressMbps: 100, netEgressMbps: 100, diskWriteBps: 100 * MIB },
  });
  await finished(created.operationId);
  return api('GET', `/v1/instances/${created.instance.id}`);
}

interface Step {
  flavor: string;
  vcpus: number;
  ramMb: number;
  pids: number;
  writeBps: number;
  mbps: number;
}
const STEPS: Step[] = [
  { flavor: 'bench.large', vcpus: 2, ramMb: 2048, pids: 2048, writeBps: 20 * MIB, mbps: 40 },
  { flavor: 'bench.small', vcpus: 1, ramMb: 256, pids: 1024, writeBps: 10 * MIB, mbps: 20 },
];

async function berthChange(id: string, s: Step): Promise<number> {
  const started = performance.now();
  const res = await api('POST', `/v1/instances/${id}/actions`, {
    action: 'resize',
    flavor: s.flavor,
    limits: { pidsLimit: s.pids, diskWriteBps: s.writeBps, netIngressMbps: s.mbps, netEgressMbps: s.mbps },
  });
  await finished(res.operationId);
  return performance.now() - started;
}

/** The twin's handles, found once: what an operator would look up before typing the change. */
async function twinHandles(twin: any, device: string) {
  const container = `berth-${twin.id}`;
  const pid = Number((await runCommand([DOCKER, 'inspect', '-f', '{{.State.Pid}}', container])).trim());
  const blkio = (await cgroupsOfProcess(pid)).dir('io');
  const port = `bvh${(twin.portId as string).replace(/-/g, '').slice(0, 12)}`;
  const qos = (await runCommand(['ovs-vsctl', 'get', 'Port', port, 'qos'])).trim();
  const queue = (await runCommand(['ovs-vsctl', 'get', 'QoS', qos, 'queues:0'])).trim();
  const ofport = (await runCommand(['ovs-vsctl', 'get', 'Interface', port, 'ofport'])).trim();
  return { container, blkio, qos, queue, ofport, device };
}

async function handChange(h: Awaited<ReturnType<typeof twinHandles>>, s: Step): Promise<number> {
  const started = performance.now();
  await runCommand([
    DOCKER,
    'update',
    '--cpu-period',
    '100000',
    '--cpu-quota',
    String(s.vcpus * 100_000),
    '--memory',
    `${s.ramMb}m`,
    '--memory-swap',
    `${s.ramMb}m`,
    '--pids-limit',
    String(s.pids),
    h.container,
  ]);
  await writeFile(`${h.blkio}/blkio.throttle.write_bps_device`, `${h.device} ${s.writeBps}\n`);
  const rate = `other_config:max-rate=${s.mbps * 1_000_000}`;
  await runCommand(['ovs-vsctl', 'set', 'QoS', h.qos, rate, '--', 'set', 'Queue', h.queue, rate]);
  const kbps = s.mbps * 1000;
  await runCommand([
    'ovs-ofctl',
    '-O',
    'OpenFlow13',
    'mod-meter',
    bridge,
    `meter=${h.ofport},kbps,burst,band=type=drop,rate=${kbps},burst_size=${Math.max(1000, kbps / 5)}`,
  ]);
  return performance.now() - started;
}

/** O_DIRECT writes inside the container, timed from its /proc/uptime (busybox dd prints no rate). */
async function directWrite(id: string, bs: string, blocks: number): Promise<{ mibps: number; iops: number }> {
  const out = await runCommand([
    DOCKER,
    'exec',
    `berth-${id}`,
    'sh',
    '-c',
    `read a _ < /proc/uptime; dd if=/dev/zero of=/tmp/dd.out bs=${bs} count=${blocks} oflag=direct 2>/dev/null; ` +
      'read b _ < /proc/uptime; stat -c %s /tmp/dd.out; rm -f /tmp/dd.out; echo "$a $b"',
  ]);
  const [size, times] = out.trim().split('\n');
  const [a = 0, b = 0] = (times ?? '').split(' ').map(Number);
  const seconds = Math.max(0.01, b - a);
  return { mibps: Number(size) / MIB / seconds, iops: blocks / seconds };
}

async function main(): Promise<void> {
  assertStack();
  const device = (await blockDeviceOf((await runCommand([DOCKER, 'info', '-f', '{{.DockerRootDir}}'])).trim())).id;
  const network = await api('POST', '/v1/networks', {
    name: 'bench-limits',
    vlan: 3902,
    cidr: `${net}.0/24`,
    gateway: `${net}.1`,
  });
  const flavors = await Promise.all(
    STEPS.map((s) => api('POST', '/v1/flavors', { name: s.flavor, vcpus: s.vcpus, ramMb: s.ramMb, diskGb: 1 })),
  );
  const made: string[] = [];
  const berth: number[] = [];
  const hand: number[] = [];
  let enforcement = '';
  try {
    const subject = await create('bench-resize');
    const twin = await create('bench-twin');
    const client = await create('bench-client');
    made.push(subject.id, twin.id, client.id);
    const handles = await twinHandles(twin, device);
    await berthChange(subject.id, STEPS[0] as Step); // warm-up, not counted
    await handChange(handles, STEPS[0] as Step);
    for (let i = 0; i < count; i += 1) {
      const step = STEPS[(i + 1) % 2] as Step;
      berth.push(await berthChange(subject.id, step));
      hand.push(await handChange(handles, step));
    }

    // Enforcement, on the subject: it last got STEPS[1] or STEPS[0]; set exact figures now.
    const set = async (limits: Record<string, number | null>) => {
      const res = await api('POST', `/v1/instances/${subject.id}/actions`, { action: 'set-limits', limits });
      await finished(res.operationId);
    };
    await set({ diskWriteBps: 5 * MIB, netIngressMbps: 20, netEgressMbps: 20 });
    const bps = await directWrite(subject.id, '1M', 15);
    await set({ diskWriteBps: null, diskWriteIops: 20 });
    const iops = await directWrite(subject.id, '4k', 100);
    const to = await iperf(client, subject, false);
    const from = await iperf(client, subject, true);
    await set({ diskWriteIops: null, netIngressMbps: null, netEgressMbps: null });
    const free = await directWrite(subject.id, '4k', 500);
    const row = (what: string, limit: string, measured: number, target: number, unit: string) =>
      `| ${what} | ${limit} | ${measured.toFixed(1)} ${unit} | ${((100 * (measured - target)) / target).toFixed(1)}% |`;
    enforcement = [
      '| limit | set | measured | off by |',
      '|---|---|---|---|',
      row('disk write bytes/s (O_DIRECT, 1 MiB blocks, 15 MiB)', '5 MiB/s', bps.mibps, 5, 'MiB/s'),
      row('disk write IOPS (O_DIRECT, 4 KiB blocks, 100 writes)', '20 IOPS', iops.iops, 20, 'IOPS'),
      row('to the instance (iperf3, 5 s)', '20 Mbit/s', to, 20, 'Mbit/s'),
      row('from the instance (iperf3 -R, 5 s)', '20 Mbit/s', from, 20, 'Mbit/s'),
      `| the same 4 KiB O_DIRECT writes with the limits removed | none | ${free.iops.toFixed(0)} IOPS | |`,
    ].join('\n');
  } finally {
    for (const id of made) {
      const del = await api('DELETE', `/v1/instances/${id}`);
      await finished(del.operationId);
    }
    await api('DELETE', `/v1/networks/${network.id}`).catch((error: unknown) => console.error(String(error)));
    for (const f of flavors) await api('DELETE', `/v1/flavors/${f.id}`);
  }

  const ratio = median(berth) / median(hand);
  const table = [
    '| | median | p90 | min | max |',
    '|---|---|---|---|---|',
    `| Berth: POST resize → operation succeeded (applied and read back) | ${ms(median(berth))} | ${ms(percentile(berth, 90))} | ${ms(Math.min(...berth))} | ${ms(Math.max(...berth))} |`,
    `| by hand: docker update + blkio file + ovs-vsctl QoS + ovs-ofctl mod-meter | ${ms(median(hand))} | ${ms(percentile(hand, 90))} | ${ms(Math.min(...hand))} | ${ms(Math.max(...hand))} |`,
  ].join('\n');
  console.log(table);
  console.log(`ratio ${ratio.toFixed(2)}`);
  console.log(enforcement);
  writeSection(
    'live-resize',
    `## live-resize

\`node dist/bench/live-resize.js ${count}\`: ${count} live resizes of a running container, alternating flavors of 1 vCPU
and 256 MB and of 2 vCPUs and 2 GB with new pids, disk write and bandwidth limits, each timed from \`POST /v1/instances/:id/actions\` to the
operation's success (the agent has applied every limit and read each back from the cgroup files, tc and OVS).
Interleaved with them, the same change typed by hand on a twin container, without reading anything back. ${machineLine()}

${table}

**Ratio Berth / by hand (medians): ${ratio.toFixed(2)}.** Berth's figure holds what the hand run leaves out:
the API's transaction and the trip through the outbox and the host's queue and back (the operation ends when the
host's report is stored), and the read-back of every limit (cgroup files, \`tc class show\`, the meter and its
flow). The change itself is one \`docker update\`, the blkio files, and about five OVS commands.

Then, on the same container, how closely the kernel holds what was set:

${enforcement}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
