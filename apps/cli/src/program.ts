import { ApiError, BerthClient, type ServerEvent } from '@berth/client';
import { Command, CommanderError, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { ApiField } from './api-spec';
import { COMMANDS, RESOLVE, type Noun } from './commands';
import { completionScript } from './completion';
import { ConfigError, configPath, loadConfig, resolveTarget, saveConfig } from './config';
import { API } from './generated/api';
import { cell, FORMATS, render, type Format } from './output';
import { progressTo, waitForOperations, WaitTimeout, type OperationView } from './wait';

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

export interface Io {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

class UsageError extends Error {}
class OperationFailed extends Error {}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A flag's text turned into the JSON type the API expects for `field`. */
function parseValue(field: ApiField, type: string, text: string): unknown {
  const flag = `--${kebab(field.name)}`;
  if (text === 'null' && field.nullable) return null;
  if (type === 'number' || type === 'integer') {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n))
      throw new UsageError(`${flag} must be a number, not ${JSON.stringify(text)}`);
    return n;
  }
  if (type === 'boolean') {
    if (text !== 'true' && text !== 'false') throw new UsageError(`${flag} must be true or false`);
    return text === 'true';
  }
  if (type === 'object') {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new UsageError(`${flag} must be JSON`);
    }
  }
  return text;
}

function fieldOption(field: ApiField, required: boolean): Option {
  const flag = `--${kebab(field.name)}`;
  const repeat = field.type === 'array' || field.type === 'map';
  const placeholder = field.type === 'map' ? '<key=value>' : field.type === 'boolean' ? '<true|false>' : '<value>';
  const help = [
    field.description ?? '',
    repeat ? '(repeat for more)' : '',
    field.type === 'object' || field.of === 'object' ? '(JSON)' : '',
    field.nullable ? '("null" clears it)' : '',
  ]
    .filter(Boolean)
    .join(' ');
  const option = new Option(`${flag} ${placeholder}`, help);
  if (field.enum) option.choices(field.enum);
  if (repeat) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
  if (required) option.makeOptionMandatory();
  return option;
}

/** The flags' values as the request's fields. */
function fieldsFrom(fields: readonly ApiField[], opts: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const given = opts[camel(kebab(field.name))];
    if (given === undefined) continue;
    if (field.type === 'array') {
      out[field.name] = (given as string[]).map((v) => parseValue(field, field.of ?? 'string', v));
    } else if (field.type === 'map') {
      out[field.name] = Object.fromEntries(
        (given as string[]).map((pair) => {
          const at = pair.indexOf('=');
          if (at <= 0) throw new UsageError(`--${kebab(field.name)} takes key=value, not ${JSON.stringify(pair)}`);
          return [pair.slice(0, at), parseValue(field, field.of ?? 'string', pair.slice(at + 1))];
        }),
      );
    } else {
      out[field.name] = parseValue(field, field.type, given as string);
    }
  }
  return out;
}

interface Common {
  output: Format;
  column?: string[];
  url?: string;
  profile?: string;
  wait?: boolean;
  timeout: string;
  quiet?: boolean;
}

function addCommon(cmd: Command, waits: boolean): Command {
  cmd
    .addOption(new Option('-o, --output <format>', 'how to print the answer').choices(FORMATS).default('table'))
    .option(
      '-c, --column <name>',
      'print only this column or field (repeat for more)',
      (v: string, p: string[] = []) => [...p, v],
    )
    .option('--url <url>', 'the API (default: BERTH_URL, then the profile)')
    .option('--profile <name>', 'a profile of the config file (default: BERTH_PROFILE, then its current one)');
  if (waits) {
    cmd
      .option(
        '--wait',
        'follow the operation to its end, with its progress; exit 1 if it fails (a bulk create with --min-count: if fewer were built)',
      )
      .option('--timeout <seconds>', 'with --wait: give up waiting after this long', '600')
      .option('-q, --quiet', 'with --wait: no progress');
  }
  return cmd;
}

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

  for (const def of COMMANDS) {
    const op = API[def.op];
    if (!op) throw new Error(`${def.noun} ${def.verb}: no operation ${def.op} in the API`);
    const cmd = nounOf(def.noun)
      .command(def.verb)
      .description(def.summary ?? op.summary);
    addCommon(cmd, !!def.waits);
    if (def.arg)
      cmd.argument(`<${def.arg.name}>`, def.arg.to === 'path' ? `name or id of the ${def.arg.resolve}` : 'its name');
    const bound = new Set([
      ...Object.keys(def.fixed ?? {}),
      ...(def.arg?.to === 'body' ? [def.arg.field] : []),
      ...Object.keys(def.files ?? {}),
    ]);
    const offered = (fields: ApiField[]) =>
      fields.filter(
        (f) =>
          !bound.has(f.name) &&
          (!def.only || def.only.includes(f.name)) &&
          !(def.list && (f.name === 'limit' || f.name === 'cursor')),
      );
    const bodyFields = offered(op.body);
    const queryFields = offered(op.query);
    for (const f of [...bodyFields, ...queryFields]) {
      cmd.addOption(fieldOption(f, f.required && !(f.name in (def.defaults ?? {}))));
    }
    for (const [field, flag] of Object.entries(def.files ?? {})) {
      cmd.requiredOption(`--${flag} <path>`, `read ${field} from this file (never given on the command line)`);
    }
    cmd.addHelpText('after', `\nExample:\n  $ ${def.example}\n`);
    cmd.action(async (...args: unknown[]) => {
      const opts = cmd.opts<Common & Record<string, unknown>>();
      const argValue = def.arg ? (args[0] as string) : undefined;
      const client = await clientFor(opts);
      let path = op.path;
      if (def.arg?.to === 'path' && argValue !== undefined) {
        path = path.replace('{id}', encodeURIComponent(await resolveRef(client, def.arg.resolve, argValue)));
      }
      const body: Record<string, unknown> = { ...def.defaults, ...fieldsFrom(bodyFields, opts), ...def.fixed };
      if (def.arg?.to === 'body') body[def.arg.field] = argValue;
      for (const [field, flag] of Object.entries(def.files ?? {})) {
        body[field] = await readFile(String(opts[camel(flag)]), 'utf8');
      }
      const query = fieldsFrom(queryFields, opts) as Record<string, string | number | boolean>;
      const hasBody = op.method !== 'GET' && op.method !== 'DELETE';

      if (def.list) {
        print(await listAll(client, path, query), opts, def.columns);
        return;
      }
      const answer = await client.request<unknown>(op.method, path, { query, ...(hasBody ? { body } : {}) });
      if (!(def.waits && opts.wait)) {
        if (answer.status === 204) return;
        if (def.verb === 'console' && opts.output === 'table') {
          io.stdout.write((answer.body as { lines: string[] }).lines.map((l) => `${l}\n`).join(''));
          return;
        }
        print(answer.body, opts, def.columns);
        return;
      }
      const ids = operationIdsOf(answer.body);
      const ended = await waitForOperations(
        client,
        ids,
        progressTo(io.stderr as NodeJS.WriteStream, !!opts.quiet),
        Number(opts.timeout),
      );
      const failed = ended.filter((o) => o.status === 'failed');
      // What the wait was for, as it now stands: the instances after a create or an action.
      const instanceIds = def.noun === 'instance' && def.verb !== 'delete' ? instancesOf(answer.body, path) : [];
      const now =
        instanceIds.length > 0
          ? await Promise.all(instanceIds.map((id) => client.get(`/v1/instances/${id}`).catch(() => null)))
          : ended;
      print(now.length === 1 ? now[0] : now, opts, []);
      if (failed.length === 0) return;
      // A bulk create with --min-count asked for "at least that many": extras that found no room
      // are the request working as asked, said on stderr, not a failure.
      const minCount = typeof body['minCount'] === 'number' ? body['minCount'] : null;
      if (minCount !== null && ended.length - failed.length >= minCount) {
        io.stderr.write(
          `berth: ${ended.length - failed.length} of ${ended.length} built (at least ${minCount} asked); not built:\n` +
            failed.map((o) => `  ${describeFault(o)}\n`).join(''),
        );
        return;
      }
      throw new OperationFailed(failed.map(describeFault).join('\n'));
    });
  }

  addOperationWait(nounOf('operation'), clientFor, io);
  addEventWatch(nounOf('event'), clientFor, io);
  addConfig(program, io);
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

function describeFault(op: OperationView): string {
  const fault = op.fault;
  return `operation ${op.id} (${op.action}) failed${fault ? ` at step ${fault.step}: ${fault.message}` : ''}`;
}

function operationIdsOf(body: unknown): string[] {
  const b = body as { operationId?: string; instances?: Array<{ operationId: string }> };
  if (b.instances) return b.instances.map((i) => i.operationId);
  return b.operationId ? [b.operationId] : [];
}

function instancesOf(body: unknown, path: string): string[] {
  const b = body as { instances?: Array<{ instance: { id: string } }> };
  if (b.instances) return b.instances.map((i) => i.instance.id);
  const m = /^\/v1\/instances\/([^/]+)/.exec(path);
  return m?.[1] ? [decodeURIComponent(m[1])] : [];
}

/** Every item of a list, following nextCursor where the API pages. */
async function listAll(
  client: BerthClient,
  path: string,
  query: Record<string, string | number | boolean>,
): Promise<unknown[]> {
  const items: unknown[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: unknown[]; nextCursor?: string | null } = await client.get(path, {
      ...query,
      ...(cursor ? { cursor } : {}),
      ...(path === '/v1/instances' || path === '/v1/operations' ? { limit: 500 } : {}),
    });
    items.push(...page.items);
    cursor = page.nextCursor ?? null;
  } while (cursor);
  return items;
}

/** A name or an id: an id is used as it is, a name is looked up in its list and must name exactly one. */
async function resolveRef(client: BerthClient, noun: Noun, ref: string): Promise<string> {
  if (UUID.test(ref)) return ref;
  const list = RESOLVE[noun];
  if (list === null) throw new ApiError(400, null, `a ${noun} is named by its id only, not ${JSON.stringify(ref)}`);
  const items = (await listAll(client, list, {})) as Array<{ id: string; name?: string }>;
  const matches = items.filter((i) => i.name === ref);
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length === 0) {
    throw new ApiError(404, null, `no ${noun} named ${JSON.stringify(ref)}`);
  }
  throw new ApiError(
    409,
    null,
    `${matches.length} ${noun}s are named ${JSON.stringify(ref)}: ${matches.map((m) => m.id).join(', ')}; use an id`,
  );
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

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
