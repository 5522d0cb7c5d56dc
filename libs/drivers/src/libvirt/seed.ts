import type { PortSpec } from '@berth/contracts';
import { CommandError, type CommandRunner } from '@berth/platform';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The files of a NoCloud config drive (cloud-init's "cidata" volume): who the instance is, root's authorized
 * keys (cloud-init's `public-keys`), and its static address, in network-config version 2. Strings go in as JSON
 * strings, which YAML reads as the same strings, so no value can add keys.
 */
export function nocloudFiles(
  instanceId: string,
  hostname: string,
  port: PortSpec,
  publicKeys: readonly string[] = [],
): Record<string, string> {
  const q = (s: string) => JSON.stringify(s);
  const keys = publicKeys.length > 0 ? `public-keys:\n${publicKeys.map((k) => `  - ${q(k)}\n`).join('')}` : '';
  return {
    'meta-data': `instance-id: ${q(instanceId)}\nlocal-hostname: ${q(hostname)}\n${keys}`,
    'network-config': [
      'version: 2',
      'ethernets:',
      '  eth0:',
      '    match:',
      `      macaddress: ${q(port.mac)}`,
      '    set-name: eth0',
      '    addresses:',
      `      - ${port.ip}/${port.prefixLength}`,
      `    gateway4: ${port.gateway}`,
      '',
    ].join('\n'),
    'user-data': '#cloud-config\n{}\n',
  };
}

/** xorriso killed by a signal, or catching one and aborting ("UNIX-SIGNAL: SIGSEGV"): a crash, not a refusal. */
const crashed = (error: unknown) =>
  error instanceof CommandError && (error.exitCode === null || /UNIX-SIGNAL/.test(error.stderr));
const ATTEMPTS = 3;

/**
 * Writes the files into an ISO 9660 volume labelled "cidata" at `isoPath` (xorriso, argv only).
 * xorriso 1.5.4 was seen to crash now and then (SIGSEGV, in a CI run); a crash is tried again, up to
 * three times, from a clean output file. Any other failure is final.
 */
export async function buildSeedIso(run: CommandRunner, isoPath: string, files: Record<string, string>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-seed-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      if (!/^[a-z-]+$/.test(name)) throw new Error(`not a seed file name: ${JSON.stringify(name)}`);
      await writeFile(join(dir, name), content);
    }
    for (let attempt = 1; ; attempt += 1) {
      try {
        await run(['xorriso', '-as', 'mkisofs', '-quiet', '-V', 'cidata', '-J', '-r', '-o', isoPath, dir]);
        return;
      } catch (error) {
        if (!crashed(error) || attempt >= ATTEMPTS) throw error;
        await rm(isoPath, { force: true });
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
