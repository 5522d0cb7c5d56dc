import { readFile, writeFile } from 'node:fs/promises';
import type { ProcessCgroups } from './proc-cgroup';

/** The weight a cgroup has when none was set: the same for BFQ (v1 and v2) and v2's io.weight. */
export const DEFAULT_IO_WEIGHT = 100;

/**
 * The files that hold a cgroup's IO weight, in the order they are tried. v1: BFQ's (CFQ's
 * blkio.weight is gone since Linux 5.0). v2: BFQ's, then io.weight (the io.cost controller).
 */
const WEIGHT_FILES: Readonly<Record<1 | 2, readonly string[]>> = {
  1: ['blkio.bfq.weight', 'blkio.weight'],
  2: ['io.bfq.weight', 'io.weight'],
};

/** A weight file's value: "300" (v1) or the "default 300" line with per-device "8:0 200" lines (v2). */
export function parseIoWeight(text: string): number | null {
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length === 1 && /^\d+$/.test(parts[0] ?? '')) return Number(parts[0]);
    if (parts.length === 2 && parts[0] === 'default' && /^\d+$/.test(parts[1] ?? '')) return Number(parts[1]);
  }
  return null;
}

async function weightFile(cg: ProcessCgroups): Promise<{ path: string; text: string } | null> {
  for (const name of WEIGHT_FILES[cg.version]) {
    const path = `${cg.dir('io')}/${name}`;
    const text = await readFile(path, 'utf8').catch(() => null);
    if (text !== null) return { path, text };
  }
  return null;
}

/** The cgroup's IO weight; null when the kernel offers no weight control for it. */
export async function readIoWeight(cg: ProcessCgroups): Promise<number | null> {
  const file = await weightFile(cg);
  return file ? parseIoWeight(file.text) : null;
}

/**
 * Sets the cgroup's IO weight (null: back to the default). Docker discards --blkio-weight when the
 * root cgroup has no blkio.weight, which is every kernel since 5.0, so the agent writes it itself.
 */
export async function writeIoWeight(cg: ProcessCgroups, weight: number | null): Promise<void> {
  const file = await weightFile(cg);
  if (!file) {
    if (weight === null) return;
    throw new Error('this host has no IO weight control (no BFQ, no io.weight)');
  }
  const value = weight ?? DEFAULT_IO_WEIGHT;
  await writeFile(file.path, cg.version === 1 ? `${value}\n` : `default ${value}\n`);
}
