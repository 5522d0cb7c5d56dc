import type { InstanceKind } from '@berth/contracts';

/**
 * What a host must offer before it runs an agent, read from one probe script's output (key=value
 * lines). Pure, so every rule is tested without a host.
 */
export interface HostProbe {
  dockerHost: string;
  dockerVersion: string | null;
  dockerRoot: string | null;
  libvirtVersion: string | null;
  ovsRundir: string;
  ovs: boolean;
  cgroups: 'v1' | 'v2' | null;
  /** cgroup controllers the kernel offers. */
  controllers: string[];
  veth: boolean;
  tun: boolean;
  nodeVersion: string | null;
  nodePath: string | null;
  agentDir: string;
  authorizedKeys: string;
  agentInstalled: boolean;
}

/** The probe: one fixed script, run by the host's shell; it only reads. `$1` is the agent's program path. */
export const PROBE_SCRIPT = [
  'printf "docker_host=%s\\n" "${DOCKER_HOST:-unix:///var/run/docker.sock}"',
  'printf "docker_version=%s\\n" "$(docker version -f "{{.Server.Version}}" 2>/dev/null)"',
  'printf "docker_root=%s\\n" "$(docker info -f "{{.DockerRootDir}}" 2>/dev/null)"',
  'printf "libvirt_version=%s\\n" "$(virsh -c qemu:///system version --daemon 2>/dev/null | sed -n "s/^Running against daemon: *//p")"',
  'printf "ovs_rundir=%s\\n" "${OVS_RUNDIR:-/var/run/openvswitch}"',
  'ovs-vsctl --timeout=5 show >/dev/null 2>&1 && echo ovs=yes || echo ovs=no',
  'if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo cgroups=v2; printf "controllers=%s\\n" "$(cat /sys/fs/cgroup/cgroup.controllers)";',
  'elif [ -d /sys/fs/cgroup/cpu ]; then echo cgroups=v1; printf "controllers=%s\\n" "$(ls /sys/fs/cgroup | tr "\\n" " ")"; fi',
  'ip link help 2>&1 | grep -q veth && echo veth=yes || echo veth=no',
  '[ -c /dev/net/tun ] && echo tun=yes || echo tun=no',
  'printf "node_path=%s\\n" "$(command -v node)"',
  'printf "node_version=%s\\n" "$(node --version 2>/dev/null)"',
  'printf "agent_dir=%s\\n" "${BERTH_AGENT_DIR:-/etc/berth}"',
  'printf "authorized_keys=%s\\n" "${BERTH_AUTHORIZED_KEYS:-$HOME/.ssh/authorized_keys}"',
  '[ -f "$1" ] && echo agent_installed=yes || echo agent_installed=no',
].join('\n');

export function parseProbe(text: string): HostProbe {
  const v = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) v.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const opt = (k: string) => (v.get(k) ? (v.get(k) ?? null) : null);
  const cgroups = v.get('cgroups');
  return {
    dockerHost: v.get('docker_host') ?? 'unix:///var/run/docker.sock',
    dockerVersion: opt('docker_version'),
    dockerRoot: opt('docker_root'),
    libvirtVersion: opt('libvirt_version'),
    ovsRundir: v.get('ovs_rundir') ?? '/var/run/openvswitch',
    ovs: v.get('ovs') === 'yes',
    cgroups: cgroups === 'v1' || cgroups === 'v2' ? cgroups : null,
    controllers: (v.get('controllers') ?? '').split(/\s+/).filter(Boolean),
    veth: v.get('veth') === 'yes',
    tun: v.get('tun') === 'yes',
    nodeVersion: opt('node_version'),
    nodePath: opt('node_path'),
    agentDir: v.get('agent_dir') ?? '/etc/berth',
    authorizedKeys: v.get('authorized_keys') ?? '',
    agentInstalled: v.get('agent_installed') === 'yes',
  };
}

const CONTROLLERS: Record<'v1' | 'v2', string[]> = {
  v1: ['cpu', 'cpuset', 'memory', 'pids', 'blkio'],
  v2: ['cpu', 'cpuset', 'memory', 'pids', 'io'],
};

/** Each prerequisite the host lacks for these drivers, as a sentence an operator can act on. */
export function missingPrerequisites(p: HostProbe, drivers: readonly InstanceKind[], agentPath: string): string[] {
  const missing: string[] = [];
  if (drivers.includes('container') && p.dockerVersion === null) {
    missing.push(`dockerd does not answer at ${p.dockerHost} (install docker.io and start it)`);
  }
  if (drivers.includes('vm') && p.libvirtVersion === null) {
    missing.push('libvirtd does not answer at qemu:///system (install libvirt-daemon-system and start it)');
  }
  if (!p.ovs) missing.push(`Open vSwitch does not answer (ovs-vsctl show failed; OVS_RUNDIR ${p.ovsRundir})`);
  if (p.cgroups === null) missing.push('no cgroup hierarchy is mounted at /sys/fs/cgroup');
  else {
    const lacking = CONTROLLERS[p.cgroups].filter((c) => !p.controllers.includes(c));
    if (lacking.length > 0) missing.push(`cgroup ${p.cgroups} lacks the controllers ${lacking.join(', ')}`);
  }
  if (!p.veth) missing.push('the kernel or iproute2 offers no veth links');
  if (drivers.includes('vm') && !p.tun) missing.push('/dev/net/tun is missing (VMs need taps)');
  const major = Number(/^v(\d+)\./.exec(p.nodeVersion ?? '')?.[1] ?? 0);
  if (major < 20) missing.push(`Node.js 20 or later is needed to run the agent (found ${p.nodeVersion ?? 'none'})`);
  if (!p.agentInstalled) missing.push(`the agent is not installed at ${agentPath}`);
  return missing;
}
