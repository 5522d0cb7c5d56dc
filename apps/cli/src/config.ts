import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';

/** One cloud and who to be on it. */
export interface Profile {
  url: string;
  token?: string;
}

/** ~/.config/berth/config.yaml */
export interface ConfigFile {
  current?: string;
  profiles: Record<string, Profile>;
}

/** Where the profiles live: $BERTH_CONFIG, else $XDG_CONFIG_HOME/berth/config.yaml, else ~/.config/berth/config.yaml. */
export function configPath(env: NodeJS.ProcessEnv): string {
  if (env['BERTH_CONFIG']) return env['BERTH_CONFIG'];
  return join(env['XDG_CONFIG_HOME'] || join(homedir(), '.config'), 'berth', 'config.yaml');
}

export class ConfigError extends Error {}

export async function loadConfig(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { profiles: {} };
    throw error;
  }
  const parsed = (parse(text) ?? {}) as Partial<ConfigFile>;
  if (typeof parsed !== 'object' || (parsed.profiles !== undefined && typeof parsed.profiles !== 'object')) {
    throw new ConfigError(`${path}: expected "profiles:" with one entry per profile`);
  }
  return { ...(parsed.current ? { current: parsed.current } : {}), profiles: parsed.profiles ?? {} };
}

/** Written readable by its owner only: it holds tokens. */
export async function saveConfig(path: string, config: ConfigFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, stringify(config), { mode: 0o600 });
  await chmod(path, 0o600);
}

export interface Target {
  url: string;
  token: string | null;
  profile: string | null;
}

/**
 * Which cloud to talk to: --url/--token first, then BERTH_URL/BERTH_TOKEN, then the profile named by
 * --profile, BERTH_PROFILE or the file's `current`. A setting missing from the first source is taken
 * from the next, so BERTH_TOKEN can go with a profile's URL.
 */
export function resolveTarget(
  flags: { url?: string; token?: string; profile?: string },
  env: NodeJS.ProcessEnv,
  config: ConfigFile,
): Target {
  const name = flags.profile ?? env['BERTH_PROFILE'] ?? config.current ?? null;
  const profile = name ? config.profiles[name] : undefined;
  if (name && (flags.profile || env['BERTH_PROFILE']) && !profile) {
    throw new ConfigError(`no profile "${name}" (berth config list shows them)`);
  }
  const url = flags.url ?? env['BERTH_URL'] ?? profile?.url;
  if (!url) {
    throw new ConfigError('no API address: set BERTH_URL, pass --url, or add a profile (berth config set-profile)');
  }
  return { url, token: flags.token ?? env['BERTH_TOKEN'] ?? profile?.token ?? null, profile: profile ? name : null };
}
