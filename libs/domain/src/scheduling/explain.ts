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

/** What turned a create down, read back from its "no valid host" message: the filter that refused the most hosts. */
export function mainRefusal(message: string): string | null {
  if (!message.startsWith('No valid host')) return null;
  if (message === 'No valid host: no compute host is registered') return 'NoHosts';
  const hosts = new Map<string, number>();
  const add = (filter: string, n: number) => hosts.set(filter, (hosts.get(filter) ?? 0) + n);
  // Many hosts: "N × Filter (code), e.g. ..."; a few: "host: Filter: reason; host: Filter: reason".
  for (const m of message.matchAll(/(?:: |; )(\d+) × (\w+) \(/g)) add(m[2] ?? '', Number(m[1]));
  if (hosts.size === 0)
    for (const m of message.matchAll(/(?:^No valid host: |; )[a-z0-9.-]+: (\w+): /g)) add(m[1] ?? '', 1);
  let best: [string, number] | null = null;
  for (const entry of hosts) if (!best || entry[1] > best[1]) best = entry;
  return best?.[0] ?? null;
}
