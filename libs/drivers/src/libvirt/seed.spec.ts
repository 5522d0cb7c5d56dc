import { sampleSpec } from '../testing/sample-spec';
import { CommandError } from '@berth/platform';
import { parse } from 'yaml';
import { buildSeedIso, nocloudFiles } from './seed';

describe('NoCloud seed', () => {
  const { port } = sampleSpec();

  it('gives the instance its id, hostname and static address in network-config v2', () => {
    const files = nocloudFiles('3f1b0d5e-6b3a-4b8e-9d7a-2c1e0f9a8b7c', 'web-1', port);
    expect(files['meta-data']).toBe('instance-id: "3f1b0d5e-6b3a-4b8e-9d7a-2c1e0f9a8b7c"\nlocal-hostname: "web-1"\n');
    expect(files['network-config']).toContain(`macaddress: "${port.mac}"`);
    expect(files['network-config']).toContain(`      - ${port.ip}/${port.prefixLength}\n`);
    expect(files['network-config']).toContain(`    gateway4: ${port.gateway}\n`);
  });

  it("lists the instance's public keys as cloud-init's public-keys, read back by a YAML parser as given", () => {
    const keys = ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0 a"\nb', 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ'];
    const meta = parse(nocloudFiles('id', 'web-1', port, keys)['meta-data'] ?? '') as Record<string, unknown>;
    expect(meta).toEqual({ 'instance-id': 'id', 'local-hostname': 'web-1', 'public-keys': keys });
    expect(nocloudFiles('id', 'web-1', port, [])['meta-data']).not.toContain('public-keys');
  });

  it('keeps a hostile string inside its YAML string: no new key, no new line', () => {
    const files = nocloudFiles('id', 'x"\nnetwork: {}\n#', port);
    const lines = files['meta-data']?.split('\n') ?? [];
    expect(lines.filter(Boolean)).toHaveLength(2);
    expect(lines[1]).toBe('local-hostname: "x\\"\\nnetwork: {}\\n#"');
  });

  it('tries xorriso again when it crashes, and not when it refuses', async () => {
    const crash = new CommandError(['xorriso'], 5, 'UNIX-SIGNAL:  SIGSEGV  errno= 0\nxorriso : ABORT');
    const calls: string[][] = [];
    const flaky = (argv: readonly string[]) => {
      calls.push([...argv]);
      return calls.length === 1 ? Promise.reject(crash) : Promise.resolve('');
    };
    await buildSeedIso(flaky, '/nonexistent/seed.iso', { 'meta-data': 'x' });
    expect(calls).toHaveLength(2);

    const refusals: string[][] = [];
    const refuse = (argv: readonly string[]) => {
      refusals.push([...argv]);
      return Promise.reject(new CommandError(['xorriso'], 1, 'cannot write /nonexistent/seed.iso'));
    };
    await expect(buildSeedIso(refuse, '/nonexistent/seed.iso', { 'meta-data': 'x' })).rejects.toThrow('cannot write');
    expect(refusals).toHaveLength(1);

    const always = () => Promise.reject(crash);
    await expect(buildSeedIso(always, '/nonexistent/seed.iso', { 'meta-data': 'x' })).rejects.toThrow('UNIX-SIGNAL');
  });
});
