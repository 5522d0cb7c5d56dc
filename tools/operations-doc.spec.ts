// docs/operations.md lists every setting a process reads: a setting added to a config class and
// not to the table fails here, in the same change.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');
const CONFIG_SOURCES = [
  'libs/platform/src/env.ts',
  'libs/control/src/settings/scheduling-env.ts',
  'apps/api/src/config.ts',
  'apps/scheduler/src/config.ts',
  'apps/compute-agent/src/config.ts',
];

/** Class properties named BERTH_*, with or without a default: `BERTH_X = 1;`, `BERTH_Y?: string;`. */
function settingsIn(source: string): string[] {
  return [...source.matchAll(/^\s+(BERTH_[A-Z0-9_]+)[?!]?\s*[=:]/gm)].map((m) => m[1] as string);
}

describe('docs/operations.md', () => {
  const doc = readFileSync(join(root, 'docs/operations.md'), 'utf8');
  const settings = [...new Set(CONFIG_SOURCES.flatMap((f) => settingsIn(readFileSync(join(root, f), 'utf8'))))];

  it('finds the settings of every process', () => {
    expect(settings).toEqual(
      expect.arrayContaining(['BERTH_DATABASE_URL', 'BERTH_HOST_SUBSET_SIZE', 'BERTH_HOST_VLANS', 'BERTH_LOG_LEVEL']),
    );
  });

  it.each(settings)('documents %s in the configuration table', (name) => {
    expect(doc).toContain(`\`${name}\``);
  });
});
