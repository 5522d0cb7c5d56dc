import type { CommandRunner } from '@berth/platform';

/**
 * libvirt's security drivers for QEMU as its capabilities list them ("dac": QEMU runs as an unprivileged user,
 * "apparmor"/"selinux": confined), then port security, which Berth adds on every tap.
 */
export async function libvirtConfinement(run: CommandRunner, uri: string): Promise<string[]> {
  const caps = await run(['virsh', '-c', uri, 'capabilities']);
  const models = [...caps.matchAll(/<secmodel>\s*<model>([a-z0-9-]+)<\/model>/g)].map((m) => m[1] ?? '');
  return [...models.filter((m) => m && m !== 'none').map((m) => `libvirt-${m}`), 'port-security'];
}
