import { BerthClient } from '@berth/client';
import type { Command } from 'commander';
import { readAll, UsageError, type Io } from './cli-common';
import { configPath, loadConfig, saveConfig } from './config';

interface LoginOptions {
  user: string;
  project: string;
  passwordStdin?: boolean;
  url?: string;
  profile?: string;
}

/**
 * `berth login`: a password login (POST /v1/auth/tokens) whose token goes into a profile. The password is read
 * from standard input with --password-stdin, or asked for on the terminal without echo; never from the command
 * line, where other users of the machine could read it.
 */
export function addLogin(program: Command, io: Io): void {
  program
    .command('login')
    .description('Log in with your password; the token (it expires) is stored in the profile')
    .requiredOption('--user <name>', 'your user name')
    .requiredOption('--project <name>', 'the project to act in, with your role there')
    .option('--password-stdin', 'read the password from standard input')
    .option('--url <url>', 'the API (default: BERTH_URL, then the profile)')
    .option('--profile <name>', 'the profile to store the token in (default: BERTH_PROFILE, then the current one)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ berth login --user alice --project shop --url http://berth.example:8080 --profile shop\n' +
        '  $ printf %s "$PASSWORD" | berth login --user alice --project shop --password-stdin\n',
    )
    .action(async (opts: LoginOptions) => {
      const path = configPath(io.env);
      const file = await loadConfig(path);
      const name = opts.profile ?? io.env['BERTH_PROFILE'] ?? file.current ?? 'default';
      const url = opts.url ?? io.env['BERTH_URL'] ?? file.profiles[name]?.url;
      if (!url) throw new UsageError('no API address: pass --url, set BERTH_URL, or log in to a profile that has one');
      const password = opts.passwordStdin ? await firstLine(io.stdin) : await askPassword(io);
      if (!password) throw new UsageError('no password given');
      const answer = await new BerthClient({ url, token: null }).request<{ token: string; expiresAt: string | null }>(
        'POST',
        '/v1/auth/tokens',
        { body: { user: opts.user, password, project: opts.project } },
      );
      file.profiles[name] = { url, token: answer.body.token };
      file.current ??= name;
      await saveConfig(path, file);
      io.stderr.write(
        `logged in to ${opts.project} as ${opts.user} (profile ${name}; expires ${answer.body.expiresAt ?? 'never'})\n`,
      );
    });
}

async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  return ((await readAll(stream)).split(/\r?\n/)[0] ?? '').trimEnd();
}

/** Asks on the terminal with echo off; without a terminal, there is no one to ask. */
async function askPassword(io: Io): Promise<string> {
  const stdin = io.stdin as NodeJS.ReadStream;
  if (!stdin.isTTY || typeof stdin.setRawMode !== 'function') {
    throw new UsageError('no terminal to ask for the password on: use --password-stdin');
  }
  io.stderr.write('Password: ');
  stdin.setRawMode(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = '';
      const onData = (chunk: Buffer) => {
        for (const char of chunk.toString('utf8')) {
          if (char === '\r' || char === '\n') {
            stdin.off('data', onData);
            resolve(typed);
            return;
          }
          if (char === '\u0003') {
            stdin.off('data', onData);
            reject(new UsageError('interrupted'));
            return;
          }
          typed = char === '\u007f' || char === '\b' ? typed.slice(0, -1) : typed + char;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    io.stderr.write('\n');
  }
}
