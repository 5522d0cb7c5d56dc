import { runCommand } from '@berth/platform';
import { readdir, readFile } from 'node:fs/promises';

const ROOT_CONTAINERD = '/var/run/docker/containerd/containerd.sock';

/**
 * containerd shims of the root dockerd with no container under them, as deploy/lib.sh's orphan_shims judges
 * them: a container dockerd does not know, or one it knows but does not run while the shim has no process
 * under it. Each is a leak: processes and a containerd record that nothing will ever end. By pid.
 */
export async function orphanShims(): Promise<number[]> {
  const shims: Array<{ pid: number; id: string }> = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const args = cmd.split('\0');
    if (!args[0]?.endsWith('containerd-shim-runc-v2')) continue;
    const id = args[args.indexOf('-id') + 1];
    if (args[args.indexOf('-address') + 1] !== ROOT_CONTAINERD || !id) continue;
    shims.push({ pid: Number(entry), id });
  }
  const ids = async (...args: string[]) =>
    new Set((await runCommand(['/usr/bin/docker', 'ps', '-q', '--no-trunc', ...args])).split('\n').filter(Boolean));
  const known = await ids('-a');
  const running = await ids();
  const orphans: number[] = [];
  for (const { pid, id } of shims) {
    const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => 'gone');
    if (!known.has(id) || (children.trim() === '' && !running.has(id))) orphans.push(pid);
  }
  return orphans;
}
