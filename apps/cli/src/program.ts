import { ApiError, BerthClient, type ServerEvent } from '@berth/client';
import { Command, CommanderError, Option } from 'commander';
import { COMMANDS } from './commands';
import { addApiCommand, fieldOption } from './api-commands';
import { addCommon, describeFault, OperationFailed, readAll, UsageError, type Common, type Io } from './cli-common';
import { completionScript } from './completion';
import { ConfigError, configPath, loadConfig, resolveTarget, saveConfig } from './config';
import { addLogin } from './login';
import { addTerminal } from './terminal';
import { API } from './generated/api';
import { cell, FORMATS, render, type Format } from './output';
import { progressTo, waitForOperations, WaitTimeout } from './wait';

export const CLI_VERSION = '0.1.0';

/** Exit codes: what a script can tell apart without reading stderr. */
export const EXIT = {
  ok: 0,
  /** An operation ended failed (with --wait), a wait timed out, or something unexpected broke. */
  failed: 1,
  /** The command line was wrong (unknown flag, missing argument, bad value, no configuration). */
  usage: 2,
  /** The API refused the request (400, 401, 403, 404, 409, 410, 413): retrying it as is will not help. */
  refused: 3,
  /** The API or the instance's host could not be reached or did not answer (5xx, connection refused). */
  unavailable: 4,
} as const;

export type { Io } from './cli-common';

/** Runs `berth ...`; resolves to the exit code. */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: Io): number {
  const say = (text: string) => io.stderr.write(`berth: ${text}\n`);
  if (error instanceof CommanderError) {
    return error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      error.code === 'commander.help'
      ? EXIT.ok
      : EXIT.usage;
  }
  if (error instanceof UsageError || error instanceof ConfigError) {
    say(error.message);
    return EXIT.usage;
  }
  if (error instanceof ApiError) {
    say(`${error.status}: ${error.message}`);
    for (const d of error.body?.error.details ?? []) io.stderr.write(`  ${d.field}: ${d.message} (rule ${d.rule})\n`);
    if (error.body?.requestId) io.stderr.write(`  request id: ${error.body.requestId}\n`);
    return error.status >= 500 ? EXIT.unavailable : EXIT.refused;
  }
  if (error instanceof OperationFailed || error instanceof WaitTimeout) {
    say(error.message);
    return EXIT.failed;
  }
  // fetch's own failure (undici's TypeError, from another realm under test runners: matched by name).
  const failed = error as { name?: string; message?: string; cause?: { code?: string; message?: string } } | null;
  if (failed?.name === 'TypeError' && failed.message === 'fetch failed') {
    const cause = failed.cause;
    say(`cannot reach the API: ${cause?.code ?? cause?.message ?? failed.message}`);
    return EXIT.unavailable;
  }
  say(error instanceof Error ? error.message : String(error));
  return EXIT.failed;
}

export function buildProgram(io: Io): Command {
  const program = new Command('berth')
    .description('Berth: containers and virtual machines on a private cloud, from the terminal')
    .version(CLI_VERSION)
    .exitOverride()
    .showHelpAfterError('(add --help for usage and an example)')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .addHelpText(
      'after',
      `
The API is BERTH_URL (or --url, or a profile of ~/.config/berth/config.yaml); the token is BERTH_TOKEN or the
profile's. Exit codes: 0 done, 1 an operation failed or a wait timed out, 2 a wrong command line,
3 the API refused (4xx), 4 the API or a host could not be reached (5xx).

Example:
  $ berth instance create web-1 --flavor m1.tiny --image busybox --network vlan100 --wait`,
    );

  const clientFor = async (opts: Common, requestId?: string): Promise<BerthClient> => {
    const target = resolveTarget(opts, io.env, await loadConfig(configPath(io.env)));
    return new BerthClient({ url: target.url, token: target.token, ...(requestId ? { requestId } : {}) });
  };
  const print = (data: unknown, opts: Common, columns: readonly string[] = []) =>
    io.stdout.write(
      render(data, opts.output, opts.column ?? (opts.output === 'value' || opts.output === 'table' ? columns : [])),
    );

  const nouns = new Map<string, Command>();
  const nounOf = (name: string) => {
    let cmd = nouns.get(name);
    if (!cmd) {
      cmd = program.command(name).description(`${name} commands`);
      nouns.set(name, cmd);
    }
    return cmd;
  };

  for (const def of COMMANDS) addApiCommand(nounOf(def.noun), def, { clientFor, print, io });

  addOperationWait(nounOf('operation'), clientFor, io);
  addEventWatch(nounOf('event'), clientFor, io);
  addTerminal(nounOf('instance'), io);
  addConfig(program, io);
  addLogin(program, io);
  program
    .command('completion')
    .description('Print a shell completion script')
    .argument('<shell>', 'bash or zsh')
    .addHelpText('after', '\nExample:\n  $ source <(berth completion bash)\n')
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') throw new UsageError('completion: shell must be bash or zsh');
      io.stdout.write(completionScript(program, shell));
    });
  return program;
}

function addOperationWait(noun: Command, clientFor: (o: Common) => Promise<BerthClient>, io: Io): void {
  const cmd = noun
    .command('wait')
    .description('Follow operations to their end, with progress; exit 1 if one fails')
    .argument('<operation...>', 'operation ids');
  addCommon(cmd, false)
    .option('--timeout <seconds>', 'give up waiting after this long', '600')
    .option('-q, --quiet', 'no progress')
    .addHelpText('after', '\nExample:\n  $ berth operation wait 0b6e5f0c-3c1d-4d5e-9a4e-1f0f3c2b1a00\n')
    .action(async (ids: string[]) => {
      const opts = cmd.opts<Common>();
      const ended = await waitForOperations(
        await clientFor(opts),
        ids,
        progressTo(io.stderr as NodeJS.WriteStream, !!opts.quiet),
        Number(opts.timeout),
      );
      io.stdout.write(render(ended.length === 1 ? ended[0] : ended, opts.output, opts.column ?? []));
      const failed = ended.filter((o) => o.status === 'failed');
      if (failed.length > 0) throw new OperationFailed(failed.map(describeFault).join('\n'));
    });
}

function addEventWatch(noun: Command, clientFor: (o: Common) => Promise<BerthClient>, io: Io): void {
  const cmd = noun.command('watch').description(API['EventsController_stream']?.summary ?? 'Stream events');
  addCommon(cmd, false);
  for (const f of API['EventsController_stream']?.query ?? []) cmd.addOption(fieldOption(f, false));
  cmd
    .option('--count <n>', 'stop after this many events')
    .addHelpText('after', '\nExample:\n  $ berth event watch --types instance,operation -o json\n')
    .action(async () => {
      const opts = cmd.opts<
        Common & { types?: string; resource?: string; project?: string; after?: string; count?: string }
      >();
      const client = await clientFor(opts);
      const limit = opts.count === undefined ? Infinity : Number(opts.count);
      if (!(limit > 0)) throw new UsageError('--count must be a positive number');
      const query = { types: opts.types, resource: opts.resource, project: opts.project };
      const abort = new AbortController();
      let seen = 0;
      const line = (e: ServerEvent) =>
        opts.output === 'table' || opts.output === 'value'
          ? `${e.seq}\t${e.at}\t${e.type}\t${e.resource.id}\t${cell(e.data['status'])}\n`
          : opts.output === 'json'
            ? `${JSON.stringify(e)}\n`
            : render([e], 'yaml');
      for await (const event of client.follow(query, {
        signal: abort.signal,
        ...(opts.after ? { lastEventId: Number(opts.after) } : {}),
      })) {
        io.stdout.write(line(event));
        seen += 1;
        if (seen >= limit) abort.abort();
      }
    });
}

function addConfig(program: Command, io: Io): void {
  const config = program.command('config').description('Profiles: which cloud, which token');
  const path = configPath(io.env);
  config
    .command('set-profile')
    .description(`Add or change a profile in ${path}`)
    .argument('<name>')
    .requiredOption('--url <url>', 'the API')
    .option('--token-stdin', 'read the token from standard input (never from the command line)')
    .option('--use', 'make it the current profile')
    .addHelpText(
      'after',
      '\nExample:\n  $ echo "$TOKEN" | berth config set-profile prod --url https://berth.example:8080 --token-stdin --use\n',
    )
    .action(async (name: string, opts: { url: string; tokenStdin?: boolean; use?: boolean }) => {
      const file = await loadConfig(path);
      const token = opts.tokenStdin ? (await readAll(io.stdin)).trim() : file.profiles[name]?.token;
      file.profiles[name] = { url: opts.url, ...(token ? { token } : {}) };
      if (opts.use || !file.current) file.current = name;
      await saveConfig(path, file);
    });
  config
    .command('use')
    .description('Make a profile the current one')
    .argument('<name>')
    .addHelpText('after', '\nExample:\n  $ berth config use prod\n')
    .action(async (name: string) => {
      const file = await loadConfig(path);
      if (!file.profiles[name]) throw new ConfigError(`no profile "${name}"`);
      file.current = name;
      await saveConfig(path, file);
    });
  config
    .command('list')
    .description('The profiles, tokens hidden')
    .addOption(new Option('-o, --output <format>', 'how to print').choices(FORMATS).default('table'))
    .addHelpText('after', '\nExample:\n  $ berth config list\n')
    .action(async (opts: { output: Format }) => {
      const file = await loadConfig(path);
      const rows = Object.entries(file.profiles).map(([name, p]) => ({
        name,
        url: p.url,
        token: p.token ? 'set' : '',
        current: name === file.current,
      }));
      io.stdout.write(render(rows, opts.output, ['name', 'url', 'token', 'current']));
    });
}
