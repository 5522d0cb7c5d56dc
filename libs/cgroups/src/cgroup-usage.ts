import { readFile } from 'node:fs/promises';
import type { ProcessCgroups } from './proc-cgroup';

/** What a cgroup has used, read from the kernel's accounting files. */
export interface CgroupUsage {
  cpuSeconds: number;
  /** Memory charged to the cgroup less its inactive file cache (the working set). */
  memoryBytes: number;
  memoryLimitBytes: number | null;
  blockReadBytes: number;
  blockWriteBytes: number;
  blockReadOps: number;
  blockWriteOps: number;
}

/** "key value" lines (memory.stat, cpu.stat) as a map. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) out.set(key, Number(value));
  }
  return out;
}

/** v2 io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..."), summed over devices. */
export function parseIoStat(
  text: string,
): Pick<CgroupUsage, 'blockReadBytes' | 'blockWriteBytes' | 'blockReadOps' | 'blockWriteOps'> {
  const total = { blockReadBytes: 0, blockWriteBytes: 0, blockReadOps: 0, blockWriteOps: 0 };
  const keys = { rbytes: 'blockReadBytes', wbytes: 'blockWriteBytes', rios: 'blockReadOps', wios: 'blockWriteOps' };
  for (const line of text.split('\n')) {
    for (const [, key, value] of line.matchAll(/\b(rbytes|wbytes|rios|wios)=(\d+)/g)) {
      total[keys[key as keyof typeof keys] as keyof typeof total] += Number(value);
    }
  }
  return total;
}

/** v1 blkio.throttle.io_service_bytes / io_serviced ("8:0 Read 4096" ...): Read and Write summed over devices. */
export function parseBlkioV1(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of text.split('\n')) {
    const m = /^\d+:\d+ (Read|Write) (\d+)$/.exec(line.trim());
    if (m?.[1] === 'Read') read += Number(m[2]);
    if (m?.[1] === 'Write') write += Number(m[2]);
  }
  return { read, write };
}

const UNLIMITED_MEMORY = 2 ** 62;
const read = async (path: string) => (await readFile(path, 'utf8')).trim();

/**
 * The usage of a cgroup. v1 reads cpuacct (its own hierarchy or mounted with cpu), memory and
 * blkio's throttle counters (which count every IO, throttled or not, O_DIRECT included); v2 reads
 * cpu.stat, memory.current and memory.stat, and io.stat.
 */
export async function readCgroupUsage(cg: ProcessCgroups): Promise<CgroupUsage> {
  if (cg.version === 1) {
    const [cpuNs, usage, limit, memStat, bytes, ops] = await Promise.all([
      read(`${cg.dir('cpuacct')}/cpuacct.usage`),
      read(`${cg.dir('memory')}/memory.usage_in_bytes`),
      read(`${cg.dir('memory')}/memory.limit_in_bytes`),
      read(`${cg.dir('memory')}/memory.stat`),
      read(`${cg.dir('io')}/blkio.throttle.io_service_bytes`),
      read(`${cg.dir('io')}/blkio.throttle.io_serviced`),
    ]);
    const inactiveFile = parseFlatKeyed(memStat).get('total_inactive_file') ?? 0;
    const io = parseBlkioV1(bytes);
    const count = parseBlkioV1(ops);
    return {
      cpuSeconds: Number(cpuNs) / 1e9,
      memoryBytes: Math.max(0, Number(usage) - inactiveFile),
      memoryLimitBytes: Number(limit) >= UNLIMITED_MEMORY ? null : Number(limit),
      blockReadBytes: io.read,
      blockWriteBytes: io.write,
      blockReadOps: count.read,
      blockWriteOps: count.write,
    };
  }
  const dir = cg.dir('cpu');
  const [cpuStat, current, max, memStat, ioStat] = await Promise.all([
    read(`${dir}/cpu.stat`),
    read(`${dir}/memory.current`),
    read(`${dir}/memory.max`),
    read(`${dir}/memory.stat`),
    read(`${dir}/io.stat`).catch(() => ''),
  ]);
  const inactiveFile = parseFlatKeyed(memStat).get('inactive_file') ?? 0;
  return {
    cpuSeconds: (parseFlatKeyed(cpuStat).get('usage_usec') ?? 0) / 1e6,
    memoryBytes: Math.max(0, Number(current) - inactiveFile),
    memoryLimitBytes: max === 'max' ? null : Number(max),
    ...parseIoStat(ioStat),
  };
}
