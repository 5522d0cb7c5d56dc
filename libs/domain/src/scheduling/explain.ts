import type { Rejection } from './types';

/** Up to this many hosts, an explanation names each; beyond, it counts hosts per reason. */
export const LIST_HOSTS_UP_TO = 10;

export interface ReasonCount {
  filter: string;
  code: string;
  hosts: number;
  /** One host's reason, as an example. */
  example: string;
}

export function countReasons(rejected: readonly Rejection[]): ReasonCount[] {
  const counts = new Map<string, ReasonCount>();
  for (const r of rejected) {
    const key = `${r.filter}\u0000${r.code}`;
    const seen = counts.get(key);
    if (seen) seen.hosts += 1;
    else counts.set(key, { filter: r.filter, code: r.code, hosts: 1, example: `${r.host}: ${r.reason}` });
  }
  return [...counts.values()].sort((a, b) => b.hosts - a.hosts || a.filter.localeCompare(b.filter));
}

/** The fault message for "no valid host": why each host (or how many per reason) was turned down. */
export function explainNoValidHost(rejected: readonly Rejection[]): string {
  if (rejected.length === 0) return 'No valid host: no compute host is registered';
  if (rejected.length <= LIST_HOSTS_UP_TO) {
    return `No valid host: ${rejected.map((r) => `${r.host}: ${r.filter}: ${r.reason}`).join('; ')}`;
  }
  const counts = countReasons(rejected)
    .map((c) => `${c.hosts} × ${c.filter} (${c.code}), e.g. ${c.example}`)
    .join('; ');
  return `No valid host among ${rejected.length} hosts: ${counts}`;
}

/**
 * Why no host could take an instance, in one word: the filter that turned down the most hosts (ties: the first by
 * name), or NoHosts when there was none to turn down. Recorded with the fault and used as the metric's label.
 */
export function mainRefusal(rejected: readonly Rejection[]): string {
  const hosts = new Map<string, number>();
  for (const r of rejected) hosts.set(r.filter, (hosts.get(r.filter) ?? 0) + 1);
  let best: [string, number] | null = null;
  for (const entry of [...hosts].sort(([a], [b]) => a.localeCompare(b))) if (!best || entry[1] > best[1]) best = entry;
  return best?.[0] ?? 'NoHosts';
}
