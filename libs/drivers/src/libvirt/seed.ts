import type { PortSpec } from '@berth/contracts';
import type { CommandRunner } from '@berth/platform';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The files of a NoCloud config drive (cloud-init's "cidata" volume): who the instance is and its
 * static address, in network-config version 2. Strings go in as JSON strings, which YAML reads as
 * the same strings, so no value can add keys.
 */
export function nocloudFiles(instanceId: string, hostname: string, port: PortSpec): Record<string, string> {
  const q = (s: string) => JSON.stringify(s);
  return {
    'meta-data': `instance-id: ${q(instanceId)}\nlocal-hostname: ${q(hostname)}\n`,
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

/** Writes the files into an ISO 9660 volume labelled "cidata" at `isoPath` (xorriso, argv only). */
export async function buildSeedIso(run: CommandRunner, isoPath: string, files: Record<string, string>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-seed-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      if (!/^[a-z-]+$/.test(name)) throw new Error(`not a seed file name: ${JSON.stringify(name)}`);
      await writeFile(join(dir, name), content);
    }
    await run(['xorriso', '-as', 'mkisofs', '-quiet', '-V', 'cidata', '-J', '-r', '-o', isoPath, dir]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
