import { runCommand } from '@berth/platform';
import { spawn } from 'node:child_process';

const DOCKER = '/usr/bin/docker';

const pidOf = async (instance: { id: string }) =>
  (await runCommand([DOCKER, 'inspect', '-f', '{{.State.Pid}}', `berth-${instance.id}`])).trim();

/**
 * iperf3 (TCP, 5 s) from `client`'s network namespace to `server`'s address, run from the host in each
 * instance's namespace; `reverse`: the server sends. Mbit/s received.
 */
export async function iperf(
  client: { id: string },
  server: { id: string; ip: string },
  reverse = false,
): Promise<number> {
  const daemon = spawn('nsenter', [`--target=${await pidOf(server)}`, '--net', 'iperf3', '-s', '-1'], {
    stdio: 'ignore',
  });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const out = await runCommand(
      ['nsenter', `--target=${await pidOf(client)}`, '--net', 'iperf3', '-c', server.ip, '-t', '5', '-J'].concat(
        reverse ? ['-R'] : [],
      ),
      { timeoutMs: 30_000 },
    );
    return (
      (JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e6
    );
  } finally {
    daemon.kill();
  }
}
