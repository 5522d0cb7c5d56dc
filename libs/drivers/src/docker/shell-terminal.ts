import type { TerminalSize } from '@berth/contracts';
import { errorMessage } from '@berth/platform';
import type Docker from 'dockerode';
import type { Duplex } from 'node:stream';
import { endOnce, TerminalRefused, type Terminal, type TerminalListener } from '../terminal';
import { containerName } from './container-config';
import { isNotFound } from './docker-errors';

/**
 * The shell a container's terminal runs: always this argv, never anything a user typed (their keystrokes go to
 * its TTY). A login shell, so that the image's /etc/profile sets its PATH and prompt.
 */
export const SHELL_ARGV = ['/bin/sh', '-l'] as const;

/**
 * A shell in a running container, as `docker exec -it` starts it: in the container's namespaces and cgroups (its
 * pids, memory and CPU limits hold), as the container's user (remapped by Docker's user namespace), with a TTY.
 */
export async function openShell(
  docker: Docker,
  instanceId: string,
  size: TerminalSize,
  listener: TerminalListener,
): Promise<Terminal> {
  const container = docker.getContainer(containerName(instanceId));
  let exec: Docker.Exec;
  try {
    exec = await container.exec({
      Cmd: [...SHELL_ARGV],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: true,
      Env: ['TERM=xterm-256color'],
    });
  } catch (error) {
    // 404: no such container; 409: it does not run.
    const status = (error as { statusCode?: number }).statusCode;
    if (isNotFound(error) || status === 409) {
      throw new TerminalRefused('running', `instance ${instanceId} is not running, so it has no shell to open`);
    }
    throw error;
  }
  const stream: Duplex = await exec.start({ hijack: true, stdin: true, Tty: true });
  const end = endOnce(listener);
  stream.on('data', (chunk: Buffer) => listener.onData(chunk));
  stream.on('error', (error: Error) => end(`the shell's connection failed: ${error.message}`));
  stream.on('close', () => void exitOf(exec).then(end));
  await exec.resize({ h: size.rows, w: size.cols }).catch(() => undefined);
  let closed = false;
  return {
    kind: 'shell',
    write: (data) => void stream.write(data),
    pause: () => void stream.pause(),
    resume: () => void stream.resume(),
    resize: async (next) => {
      await exec.resize({ h: next.rows, w: next.cols });
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await hangUp(exec);
      stream.destroy();
    },
  };
}

/** Sends SIGHUP to the shell (its host pid, as Docker reports it), as a terminal's hang-up does. */
async function hangUp(exec: Docker.Exec): Promise<void> {
  try {
    const { Pid, Running } = await exec.inspect();
    if (Running && Pid > 0) process.kill(Pid, 'SIGHUP');
  } catch (error) {
    // Already gone (ESRCH), or the container with it: nothing left to hang up.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH' && !isNotFound(error)) throw error;
  }
}

/** Why the shell's stream closed, in words for the viewer. */
async function exitOf(exec: Docker.Exec): Promise<string> {
  try {
    const info = await exec.inspect();
    if (info.Running) return 'the connection to the shell closed';
    return info.ExitCode === 0 || info.ExitCode === null
      ? 'the shell exited'
      : `the shell exited with status ${info.ExitCode}`;
  } catch (error) {
    return `the shell ended (${errorMessage(error)})`;
  }
}
