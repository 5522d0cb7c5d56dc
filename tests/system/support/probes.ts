import { runCommand } from '@berth/platform';

/** Looks at an instance from the host's side, the way an operator would by hand. */
const DOCKER = '/usr/bin/docker';
const container = (instanceId: string) => `berth-${instanceId}`;

export async function containerPid(instanceId: string): Promise<number> {
  return Number((await runCommand([DOCKER, 'inspect', '-f', '{{.State.Pid}}', container(instanceId)])).trim());
}

/** eth0 as seen from inside the instance's network namespace. */
export async function insideView(instanceId: string): Promise<{ mac: string; addresses: string[] }> {
  const pid = await containerPid(instanceId);
  const out = await runCommand(['nsenter', `--target=${pid}`, '--net', 'ip', '-json', 'addr', 'show', 'dev', 'eth0']);
  const [link] = JSON.parse(out) as Array<{
    address: string;
    addr_info: Array<{ family: string; local: string; prefixlen: number }>;
  }>;
  return {
    mac: link?.address ?? '',
    addresses: (link?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
  };
}

/** The OVS interfaces carrying the instance id Berth stamps on them. */
export async function ovsInterfaces(instanceId: string): Promise<string[]> {
  const out = await runCommand([
    'ovs-vsctl',
    '--bare',
    '--columns=name',
    'find',
    'Interface',
    `external_ids:berth-instance=${instanceId}`,
  ]);
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** The VLAN tag of the instance's OVS port. */
export async function ovsTag(instanceId: string): Promise<number | null> {
  const [name] = await ovsInterfaces(instanceId);
  if (!name) return null;
  return Number((await runCommand(['ovs-vsctl', 'get', 'Port', name, 'tag'])).trim());
}

/** A TCP server inside the instance that answers every connection with `reply`. */
export async function serveTcp(instanceId: string, port: number, reply: string): Promise<void> {
  await runCommand([
    DOCKER,
    'exec',
    '-d',
    container(instanceId),
    'nc',
    '-ll',
    '-p',
    String(port),
    '-e',
    '/bin/echo',
    reply,
  ]);
}

/** Connects from inside `fromId` and returns what the peer said, or null when it could not connect. */
export async function tcpFrom(fromId: string, ip: string, port: number): Promise<string | null> {
  try {
    const out = await runCommand([DOCKER, 'exec', container(fromId), 'nc', '-w', '2', ip, String(port)], {
      timeoutMs: 10_000,
    });
    return out.trim() || null;
  } catch {
    return null;
  }
}

export async function pingFrom(fromId: string, ip: string): Promise<boolean> {
  try {
    await runCommand([DOCKER, 'exec', container(fromId), 'ping', '-c', '1', '-W', '1', ip], { timeoutMs: 10_000 });
    return true;
  } catch {
    return false;
  }
}
