import { CommandError, runCommand } from '@berth/platform';

/** One sample line of a scrape: its name, labels and value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Checks a scrape with Prometheus's own parser (`promtool check metrics`, Debian's prometheus
 * package): throws on anything it cannot parse, and returns the lint problems it finds in Berth's
 * own metrics. prom-client's stock nodejs gauges end in `_total`, which the linter flags; those are
 * not Berth's and are left out.
 */
export async function promtoolProblems(text: string): Promise<string[]> {
  try {
    await runCommand(['promtool', 'check', 'metrics'], { input: text });
    return [];
  } catch (error) {
    // Exit 3: linted with problems (on stdout or stderr); anything else is a parse failure.
    if (!(error instanceof CommandError) || error.exitCode !== 3) throw error;
    return error.stderr.split('\n').filter((l) => l.trim() && !/_nodejs_active_\w+_total non-counter metrics/.test(l));
  }
}

/** The scrape's samples (what promtool has parsed), for reading values: histogram series are `_count`, `_sum`, `_bucket`. */
export function samples(text: string): Sample[] {
  return text.split('\n').flatMap((line) => {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match || line.startsWith('#')) return [];
    const labels = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    ) as Record<string, string>;
    return [{ name: match[1] as string, labels, value: Number(match[3]) }];
  });
}

/** The value of the one sample named `name` whose labels include `labels`. */
export function valueOf(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return samples(text).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}
