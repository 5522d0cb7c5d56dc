import { readFile, writeFile } from 'node:fs/promises';
import {
  NO_IO_THROTTLE,
  parseV1Throttle,
  parseV2IoMax,
  formatV2IoMax,
  V1_IO_FILES,
  type IoThrottle,
} from './io-throttle';
import { readIoWeight } from './io-weight';
import { parseMountinfo } from './mountinfo';
import { processCgroups, type ProcessCgroups } from './proc-cgroup';

/** An instance's limits as its cgroups hold them, read from the kernel's files. */
export interface CgroupLimits {
  cpuset: string;
  /** null: no CFS quota (the cgroup may use every CPU of its cpuset). */
  cpuQuotaUs: number | null;
  cpuPeriodUs: number;
  /** null: no memory limit. */
  memoryBytes: number | null;
  pidsMax: number | null;
  /** Block IO throttles on the device asked about. */
  io: IoThrottle;
  /** IO weight under contention; null when the kernel offers no weight control. */
  ioWeight: number | null;
}

/** v1 writes "no memory limit" as the page counter's maximum, about 2^63. */
const UNLIMITED_MEMORY = 2 ** 62;

/** The cgroups of a running process (an instance's init), found through /proc on the host. */
export async function cgroupsOfProcess(pid: number): Promise<ProcessCgroups> {
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new Error(`not a process id: ${pid}`);
  const [procCgroup, mountinfo] = await Promise.all([
    readFile(`/proc/${pid}/cgroup`, 'utf8'),
    readFile('/proc/self/mountinfo', 'utf8'),
  ]);
  return processCgroups(procCgroup, parseMountinfo(mountinfo));
}

const read = async (path: string) => (await readFile(path, 'utf8')).trim();
const maxOrNumber = (text: string) => (text === 'max' ? null : Number(text));

export async function readCgroupLimits(cg: ProcessCgroups, device: string): Promise<CgroupLimits> {
  if (cg.version === 1) {
    const [cpuset, quota, period, memory, pids, ...io] = await Promise.all([
      read(`${cg.dir('cpuset')}/cpuset.cpus`),
      read(`${cg.dir('cpu')}/cpu.cfs_quota_us`),
      read(`${cg.dir('cpu')}/cpu.cfs_period_us`),
      read(`${cg.dir('memory')}/memory.limit_in_bytes`),
      read(`${cg.dir('pids')}/pids.max`),
      ...(Object.keys(V1_IO_FILES) as Array<keyof IoThrottle>).map((k) => read(`${cg.dir('io')}/${V1_IO_FILES[k]}`)),
    ]);
    const [readBps = '', writeBps = '', readIops = '', writeIops = ''] = io;
    const ioWeight = await readIoWeight(cg);
    const memoryBytes = Number(memory);
    return {
      cpuset,
      cpuQuotaUs: Number(quota) < 0 ? null : Number(quota),
      cpuPeriodUs: Number(period),
      memoryBytes: memoryBytes >= UNLIMITED_MEMORY ? null : memoryBytes,
      pidsMax: maxOrNumber(pids),
      io: {
        readBps: parseV1Throttle(readBps, device),
        writeBps: parseV1Throttle(writeBps, device),
        readIops: parseV1Throttle(readIops, device),
        writeIops: parseV1Throttle(writeIops, device),
      },
      ioWeight,
    };
  }
  const dir = cg.dir('cpu');
  const [cpuset, cpuMax, memory, pids, ioMax, ioWeight] = await Promise.all([
    read(`${dir}/cpuset.cpus.effective`),
    read(`${dir}/cpu.max`),
    read(`${dir}/memory.max`),
    read(`${dir}/pids.max`),
    read(`${dir}/io.max`).catch(() => ''),
    readIoWeight(cg),
  ]);
  const [quota = 'max', period = '100000'] = cpuMax.split(/\s+/);
  return {
    cpuset,
    cpuQuotaUs: maxOrNumber(quota),
    cpuPeriodUs: Number(period),
    memoryBytes: maxOrNumber(memory),
    pidsMax: maxOrNumber(pids),
    io: ioMax ? parseV2IoMax(ioMax, device) : { ...NO_IO_THROTTLE },
    ioWeight,
  };
}

/**
 * Sets every block IO throttle of `device` (null removes one). Docker cannot change these on a
 * running container (20.10), so they are written to the cgroup directly.
 */
export async function writeIoThrottle(cg: ProcessCgroups, device: string, t: IoThrottle): Promise<void> {
  if (cg.version === 1) {
    for (const k of Object.keys(V1_IO_FILES) as Array<keyof IoThrottle>) {
      await writeFile(`${cg.dir('io')}/${V1_IO_FILES[k]}`, `${device} ${t[k] ?? 0}\n`);
    }
    return;
  }
  await writeFile(`${cg.dir('io')}/io.max`, `${formatV2IoMax(device, t)}\n`);
}
