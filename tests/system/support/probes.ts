import { runCommand } from '@berth/platform';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

/** Looks at an instance from the host's side, the way an operator would by hand. */
const DOCKER = '/usr/bin/docker';
const container = (instanceId: string) => `berth-${instanceId}`;

export async function containerPid(instanceId: string): Promise<number> {
  return Number((await runCommand([DOCKER, 'inspect', '-f', '{{.State.Pid}}', container(instanceId)])).trim());
}

/** eth0 as seen from inside the instance's network namespace. */
export async function insideView(instanceId: string): Promise<{ mac: string; addresses: string[] }> {
  return eth0Of(await containerPid(instanceId));
}

/** eth0 in the network namespace of process `pid` (an instance's init, on whichever dockerd runs it). */
export async function eth0Of(pid: number): Promise<{ mac: string; addresses: string[] }> {
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

/** `docker` speaking to one dockerd: this machine's, or a testbed host's (its socket). */
const dockerOn = (socket?: string) => (socket ? [DOCKER, '-H', `unix://${socket}`] : [DOCKER]);

/** A TCP server inside the instance that answers every connection with `reply`. */
export async function serveTcp(instanceId: string, port: number, reply: string, socket?: string): Promise<void> {
  await runCommand([
    ...dockerOn(socket),
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
export async function tcpFrom(fromId: string, ip: string, port: number, socket?: string): Promise<string | null> {
  try {
    const out = await runCommand([...dockerOn(socket), 'exec', container(fromId), 'nc', '-w', '2', ip, String(port)], {
      timeoutMs: 10_000,
    });
    return out.trim() || null;
  } catch {
    return null;
  }
}

/**
 * Pings from the instance's network namespace, with the host's busybox: an instance has no CAP_NET_RAW,
 * and busybox's ping knows only raw sockets (images with iputils ping use ICMP datagram sockets instead).
 */
export async function pingFrom(fromId: string, ip: string): Promise<boolean> {
  try {
    const pid = await containerPid(fromId);
    await runCommand(['nsenter', `--target=${pid}`, '--net', 'busybox', 'ping', '-c', '1', '-W', '1', ip], {
      timeoutMs: 10_000,
    });
    return true;
  } catch {
    return false;
  }
}

/** A line the guest's kernel printed on its console: its uptime in brackets first. */
const KERNEL_LOG_LINE = /^\[\s*\d+\.\d+\] /;

/**
 * Runs a shell command inside a VM through its serial console's socket on the host (the test image
 * keeps a shell on ttyS0), as an operator would with `virsh console`. Returns the exit code and
 * what the command printed. The marker's exit code is expanded by the guest, so its echoed input
 * never matches.
 */
export async function guestExec(
  socketPath: string,
  command: string,
  timeoutMs = 30_000,
): Promise<{ code: number; output: string }> {
  const marker = `__berth_${randomBytes(4).toString('hex')}__`;
  const done = new RegExp(`${marker} (\\d+)`);
  // Printed by the guest on a line of its own before the command runs; its echoed input never is.
  const begin = `${marker}begin`;
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let seen = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the guest did not finish \`${command}\` in ${timeoutMs} ms; it printed: ${seen.slice(-500)}`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`\necho ${begin}; ${command}; echo ${marker} $?\n`));
    socket.on('data', (chunk: string) => {
      seen += chunk.replace(/\r/g, '');
      const end = done.exec(seen);
      if (!end) return;
      clearTimeout(timer);
      socket.destroy();
      // What the command printed: the lines between the begin line the guest printed and the end marker.
      const lines = seen.slice(0, end.index).split('\n');
      // A prompt may precede it on that line; the echoed input holds "echo" before it.
      const from = lines.findLastIndex((l) => l.endsWith(begin) && !l.includes(`echo ${begin}`));
      resolve({
        code: Number(end[1]),
        // The kernel prints to the same serial console at any moment ("[    5.427870] IPv6: ..."): not the command's.
        output: lines
          .slice(from + 1)
          .filter((l) => !KERNEL_LOG_LINE.test(l))
          .join('\n')
          .trim(),
      });
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * What the guest's latest boot printed from "userspace up", once it printed "ready"; null while that boot is
 * under way. The latest boot starts at its kernel's first line where the kernel prints one: a TCG guest here
 * sometimes resets on its own (no panic on its console), and an earlier boot's "ready" must not stand for the
 * one under way.
 */
export function readyBoot(consoleLog: string, after = 0): string | null {
  // A kernel that prints nothing (quiet) leaves its boots apart by their userspace lines alone.
  const kernel = consoleLog.lastIndexOf('] Linux version ');
  const up =
    kernel >= 0
      ? consoleLog.indexOf('berth-test-vm: userspace up', kernel)
      : consoleLog.lastIndexOf('berth-test-vm: userspace up');
  if (up < 0 || up < after) return null;
  return consoleLog.indexOf('berth-test-vm: ready', up) > 0 ? consoleLog.slice(up) : null;
}
