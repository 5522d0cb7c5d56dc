import { cgroupsOfProcess } from '@berth/cgroups';
import { runCommand } from '@berth/platform';
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promtoolProblems, valueOf } from '../medium/prometheus';
import { containerPid } from './support/probes';
import { TestStack } from './support/stack';
import { testEnv } from './support/test-env';

// Usage is the container's own: each figure is checked against what the kernel keeps for its cgroup
// and what the container sees on its own eth0, read by the test from the files themselves.

const DOCKER = '/usr/bin/docker';
const MIB = 1024 * 1024;
const net = `10.${randomInt(100, 200)}.${randomInt(0, 255)}`;

const exec = (instanceId: string, argv: string[], timeoutMs = 60_000) =>
  runCommand([DOCKER, 'exec', `berth-${instanceId}`, ...argv], { timeoutMs });

/** The kernel's own counters for the container, read from its cgroup files (v1 or v2) without Berth's parsers. */
async function kernelCounters(
  instanceId: string,
): Promise<{ cpuSeconds: number; memoryBytes: number; writeBytes: number }> {
  const cg = await cgroupsOfProcess(await containerPid(instanceId));
  const text = (path: string) => readFile(path, 'utf8');
  const field = (body: string, key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(body)?.[1] ?? 0);
  if (cg.version === 1) {
    const blkio = await text(`${cg.dir('io')}/blkio.throttle.io_service_bytes`);
    return {
      cpuSeconds: Number(await text(`${cg.dir('cpuacct')}/cpuacct.usage`)) / 1e9,
      memoryBytes:
        Number(await text(`${cg.dir('memory')}/memory.usage_in_bytes`)) -
        field(await text(`${cg.dir('memory')}/memory.stat`), 'total_inactive_file'),
      writeBytes: [...blkio.matchAll(/^\S+ Write (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0),
    };
  }
  const dir = cg.dir('cpu');
  const io = await text(`${dir}/io.stat`).catch(() => '');
  return {
    cpuSeconds: field(await text(`${dir}/cpu.stat`), 'usage_usec') / 1e6,
    memoryBytes: Number(await text(`${dir}/memory.current`)) - field(await text(`${dir}/memory.stat`), 'inactive_file'),
    writeBytes: [...io.matchAll(/wbytes=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0),
  };
}

/** Sends TCP traffic for `seconds` from `client`'s network namespace to `server`'s with iperf3. */
async function sendTcp(client: { id: string }, server: { id: string; ip: string }, seconds: number): Promise<void> {
  const daemon = spawn(
    'nsenter',
    [`--target=${await containerPid(server.id)}`, '--net', 'iperf3', '-s', '-1', '-p', '5301'],
    {
      stdio: 'ignore',
    },
  );
  try {
    const argv = ['nsenter', `--target=${await containerPid(client.id)}`, '--net', 'iperf3', '-c', server.ip];
    for (let attempt = 0; ; attempt += 1) {
      try {
        await runCommand([...argv, '-p', '5301', '-t', String(seconds), '-J'], { timeoutMs: 30_000 });
        return;
      } catch (error) {
        // The server may not listen yet.
        if (!String(error).includes('Connection refused') || attempt > 50) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    daemon.kill();
  }
}

/** eth0's counters as the container itself sees them. */
async function insideCounters(instanceId: string): Promise<{ rxBytes: number; txBytes: number }> {
  const out = await exec(instanceId, [
    'cat',
    '/sys/class/net/eth0/statistics/rx_bytes',
    '/sys/class/net/eth0/statistics/tx_bytes',
  ]);
  const [rxBytes = 0, txBytes = 0] = out.trim().split('\n').map(Number);
  return { rxBytes, txBytes };
}

describe('usage of an instance: GET /v1/instances/:id/stats and the per-instance series of /metrics', () => {
  let stack: TestStack;
  const env = testEnv();
  let busy: any;
  let peer: any;

  beforeAll(async () => {
    stack = await TestStack.start();
    for (const [path, body] of [
      ['/v1/flavors', { name: 'm1.small', vcpus: 1, ramMb: 256, diskGb: 1 }],
      ['/v1/images', { name: 'busybox', kind: 'container', ref: env.image }],
      ['/v1/networks', { name: 'vlan100', vlan: 100, cidr: `${net}.0/24`, gateway: `${net}.1` }],
    ] as const) {
      expect((await stack.call('POST', path, body)).status).toBe(201);
    }
    busy = await stack.createInstance({ name: 'busy', flavor: 'm1.small', network: 'vlan100' });
    peer = await stack.createInstance({ name: 'peer', flavor: 'm1.small', network: 'vlan100' });
    expect([busy.status, peer.status]).toEqual(['ACTIVE', 'ACTIVE']);
  });
  afterAll(() => stack?.stop());

  const stats = async (id: string, interval = 1) => stack.call('GET', `/v1/instances/${id}/stats?interval=${interval}`);

  it("shows the container's CPU, memory, block IO and traffic, as its cgroup and its eth0 count them", async () => {
    // Load of the container's own: one busy CPU, 64 MiB in its tmpfs, 16 MiB written with O_DIRECT,
    // and a second of TCP traffic to the peer (iperf3 in the two containers' network namespaces).
    await runCommand([DOCKER, 'exec', '-d', `berth-${busy.id}`, 'sh', '-c', 'while :; do :; done']);
    await exec(busy.id, ['dd', 'if=/dev/zero', 'of=/dev/shm/fill', 'bs=1M', 'count=64']);
    await exec(busy.id, ['dd', 'if=/dev/zero', 'of=/tmp/direct', 'bs=1M', 'count=16', 'oflag=direct']);
    await sendTcp(busy, peer, 1);

    const before = await kernelCounters(busy.id);
    const res = await stats(busy.id, 2);
    const after = await kernelCounters(busy.id);
    const inside = await insideCounters(busy.id);
    expect(res.status).toBe(200);
    const s = res.body;

    // A whole CPU busy for the 2 s: about 100% of one CPU, and the cgroup's own clock agrees.
    expect(s.intervalSec).toBeGreaterThanOrEqual(1.9);
    expect(s.cpu.vcpus).toBe(1);
    expect(s.cpu.percent).toBeGreaterThan(50);
    expect(s.cpu.percent).toBeLessThanOrEqual(110);
    expect(s.cpu.usedSeconds).toBeGreaterThanOrEqual(before.cpuSeconds - 0.001);
    expect(s.cpu.usedSeconds).toBeLessThanOrEqual(after.cpuSeconds + 0.001);

    // 64 MiB of tmpfs is the container's memory; the host holds far more than this, the cgroup the same.
    expect(s.memory.usedBytes).toBeGreaterThan(64 * MIB);
    expect(s.memory.limitBytes).toBe(256 * MIB);
    expect(Math.abs(s.memory.usedBytes - after.memoryBytes)).toBeLessThan(8 * MIB);

    expect(s.blockIo.writeBytes).toBeGreaterThanOrEqual(16 * MIB);
    expect(s.blockIo.writeBytes).toBeGreaterThanOrEqual(before.writeBytes);
    expect(s.blockIo.writeBytes).toBeLessThanOrEqual(after.writeBytes);

    // The traffic in the container's direction, equal to what its own eth0 counted (give or take ARP).
    expect(s.network.txBytes).toBeGreaterThan(MIB);
    expect(Math.abs(s.network.txBytes - inside.txBytes)).toBeLessThan(4096);
    expect(Math.abs(s.network.rxBytes - inside.rxBytes)).toBeLessThan(4096);
    const peerStats = (await stats(peer.id)).body;
    const peerInside = await insideCounters(peer.id);
    expect(peerStats.network.rxBytes).toBeGreaterThan(MIB);
    expect(Math.abs(peerStats.network.rxBytes - peerInside.rxBytes)).toBeLessThan(4096);
  });

  it('serves the same figures as per-instance series on the agent /metrics, matching the cgroup', async () => {
    const before = await kernelCounters(busy.id);
    const res = await fetch(`${await stack.opsUrl(stack.hostName)}/metrics`);
    const text = await res.text();
    const after = await kernelCounters(busy.id);
    const inside = await insideCounters(busy.id);
    expect(await promtoolProblems(text)).toEqual([]);
    const labels = { instance_id: busy.id, kind: 'container' };
    const series = (name: string) => {
      const value = valueOf(text, name, labels);
      if (value === undefined) throw new Error(`no ${name} for the instance`);
      return value;
    };
    const cpu = series('berth_instance_cpu_seconds_total');
    expect(cpu).toBeGreaterThanOrEqual(before.cpuSeconds - 0.001);
    expect(cpu).toBeLessThanOrEqual(after.cpuSeconds + 0.001);
    expect(Math.abs(series('berth_instance_memory_bytes') - after.memoryBytes)).toBeLessThan(8 * MIB);
    expect(series('berth_instance_memory_limit_bytes')).toBe(256 * MIB);
    expect(series('berth_instance_block_write_bytes_total')).toBe(after.writeBytes);
    expect(Math.abs(series('berth_instance_network_transmit_bytes_total') - inside.txBytes)).toBeLessThan(4096);
    // Both instances have series; nothing else does.
    const ids = new Set(
      [...text.matchAll(/^berth_instance_cpu_seconds_total\{[^}]*instance_id="([^"]+)"/gm)].map((m) => m[1]),
    );
    expect(ids).toEqual(new Set([busy.id, peer.id]));
  });

  it('answers 409 for a stopped instance and drops it from the series', async () => {
    await stack.act(peer.id, 'stop');
    const res = await stats(peer.id);
    expect(res.status).toBe(409);
    expect(res.body.error.details[0]).toMatchObject({ field: 'id', rule: 'running' });
    const text = await (await fetch(`${await stack.opsUrl(stack.hostName)}/metrics`)).text();
    expect(text).not.toContain(peer.id);
    expect(text).toContain(busy.id);
  });
});
