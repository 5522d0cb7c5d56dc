import type { InstanceUsage } from '@berth/contracts';
import type { CommandRunner } from '@berth/platform';

/**
 * `virsh domstats --cpu-total --balloon --interface --block` of one domain ("  cpu.time=123" lines)
 * as the instance's counters. CPU time is in nanoseconds, balloon sizes in KiB. Memory is the
 * QEMU process's resident size (balloon.rss): without a balloon driver reporting from the guest it
 * is the one figure of what the VM holds on the host. Traffic is libvirt's, already in the guest's
 * direction; block counters are summed over the domain's disks.
 */
export function usageOfDomstats(text: string, monotonicMs: number): InstanceUsage {
  const stats = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z0-9_.]+)=(\d+)\s*$/i.exec(line);
    if (m?.[1] && m[2] !== undefined) stats.set(m[1], Number(m[2]));
  }
  const sum = (group: 'net' | 'block', key: string) => {
    let total = 0;
    for (let i = 0; i < (stats.get(`${group}.count`) ?? 0); i++) total += stats.get(`${group}.${i}.${key}`) ?? 0;
    return total;
  };
  const kib = (key: string) => (stats.has(key) ? (stats.get(key) ?? 0) * 1024 : null);
  return {
    monotonicMs,
    cpuSeconds: (stats.get('cpu.time') ?? 0) / 1e9,
    memoryBytes: kib('balloon.rss') ?? kib('balloon.current') ?? 0,
    memoryLimitBytes: kib('balloon.maximum'),
    netRxBytes: sum('net', 'rx.bytes'),
    netTxBytes: sum('net', 'tx.bytes'),
    netRxPackets: sum('net', 'rx.pkts'),
    netTxPackets: sum('net', 'tx.pkts'),
    blockReadBytes: sum('block', 'rd.bytes'),
    blockWriteBytes: sum('block', 'wr.bytes'),
    blockReadOps: sum('block', 'rd.reqs'),
    blockWriteOps: sum('block', 'wr.reqs'),
  };
}

/** The running domain's CPU, memory, disks and interface counters now, from `virsh domstats`. */
export async function readDomstats(run: CommandRunner, uri: string, domain: string): Promise<InstanceUsage> {
  const monotonicMs = performance.now();
  const out = await run(['virsh', '-c', uri, 'domstats', '--cpu-total', '--balloon', '--interface', '--block', domain]);
  return usageOfDomstats(out, monotonicMs);
}
