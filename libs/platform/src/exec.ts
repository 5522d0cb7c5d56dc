import { spawn } from 'node:child_process';

/** Runs a program with an argv array and returns its stdout. Never goes through a shell. */
export type CommandRunner = (argv: readonly string[], options?: RunOptions) => Promise<string>;

export interface RunOptions {
  /** Written to the program's stdin, then stdin is closed. */
  input?: string;
  timeoutMs?: number;
}

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${argv.join(' ')}: ${stderr.trim() || `exited with ${exitCode ?? 'a signal'}`}`);
    this.name = 'CommandError';
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;

export const runCommand: CommandRunner = (argv, options = {}) =>
  new Promise((resolve, reject) => {
    const [file, ...args] = argv;
    if (!file) {
      reject(new Error('runCommand: empty argv'));
      return;
    }
    const hasInput = options.input !== undefined;
    const child = spawn(file, args, { stdio: [hasInput ? 'pipe' : 'ignore', 'pipe', 'pipe'], shell: false });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new CommandError(argv, null, err.message));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const err = Buffer.concat(stderr).toString('utf8');
      if (code === 0) resolve(Buffer.concat(stdout).toString('utf8'));
      else reject(new CommandError(argv, code, signal ? `${err}killed by ${signal}` : err));
    });
    if (child.stdin) {
      // A program may exit before reading all its input; its exit status tells what happened.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
