import { type BerthClient } from '@berth/client';
import { Option, type Command } from 'commander';
import { readFile } from 'node:fs/promises';
import type { ApiField } from './api-spec';
import {
  camel,
  describeFault,
  kebab,
  readAll,
  listAll,
  OperationFailed,
  resolveRef,
  UsageError,
  addCommon,
  type Common,
  type Io,
} from './cli-common';
import type { CommandDef } from './commands';
import { API } from './generated/api';
import { progressTo, waitForOperations } from './wait';

/*
 * The commands made from the API's own description (commands.ts names them, generated/api.ts describes each
 * operation): their options come from the request's fields, their action sends it and, with --wait, follows it.
 */

/** What a generated command needs from the program: a client for its options, the printer, the terminal. */
export interface CommandContext {
  clientFor: (opts: Common, requestId?: string) => Promise<BerthClient>;
  print: (data: unknown, opts: Common, columns?: readonly string[]) => void;
  io: Io;
}

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

export function fieldOption(field: ApiField, required: boolean): Option {
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

/** Adds the command `def` under its noun: options from the API operation's fields, and its action. */
export function addApiCommand(noun: Command, def: CommandDef, ctx: CommandContext): void {
  const op = API[def.op];
  if (!op) throw new Error(`${def.noun} ${def.verb}: no operation ${def.op} in the API`);
  const cmd = noun.command(def.verb).description(def.summary ?? op.summary);
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
  const [firstSecret] = def.stdinFields ?? [];
  if (firstSecret) {
    cmd.option(
      `--${kebab(firstSecret)}-stdin`,
      `read ${def.stdinFields?.join(', then ')} from standard input, one a line`,
    );
  }
  for (const [param, what] of Object.entries(def.pathFlags ?? {})) {
    cmd.requiredOption(`--${param} <${what}>`, `the ${what} (name or id)`);
  }
  cmd.addHelpText('after', `\nExample:\n  $ ${def.example}\n`);
  cmd.action(async (...args: unknown[]) => {
    const opts = cmd.opts<Common & Record<string, unknown>>();
    await runApiCommand(def, { op, bodyFields, queryFields }, opts, args, ctx);
  });
}

type ApiOperation = NonNullable<(typeof API)[string]>;
interface Bound {
  op: ApiOperation;
  bodyFields: ApiField[];
  queryFields: ApiField[];
}

/** Sends the command's request (its argument resolved, its fields from the options) and prints the answer. */
async function runApiCommand(
  def: CommandDef,
  bound: Bound,
  opts: Common & Record<string, unknown>,
  args: unknown[],
  ctx: CommandContext,
): Promise<void> {
  const { op, bodyFields, queryFields } = bound;
  const argValue = def.arg ? (args[0] as string) : undefined;
  const client = await ctx.clientFor(opts);
  let path = op.path;
  if (def.arg?.to === 'path' && argValue !== undefined) {
    path = path.replace('{id}', encodeURIComponent(await resolveRef(client, def.arg.resolve, argValue)));
  }
  for (const param of Object.keys(def.pathFlags ?? {})) {
    path = path.replace(`{${param}}`, encodeURIComponent(String(opts[param])));
  }
  const body: Record<string, unknown> = { ...def.defaults, ...fieldsFrom(bodyFields, opts), ...def.fixed };
  if (def.arg?.to === 'body') body[def.arg.field] = argValue;
  for (const [field, flag] of Object.entries(def.files ?? {})) {
    body[field] = await readFile(String(opts[camel(flag)]), 'utf8');
  }
  const [firstSecret] = def.stdinFields ?? [];
  if (firstSecret && opts[`${firstSecret}Stdin`]) {
    const lines = (await readAll(ctx.io.stdin)).split(/\r?\n/);
    for (const [i, field] of (def.stdinFields ?? []).entries()) {
      if (lines[i]) body[field] = lines[i];
    }
  }
  const query = fieldsFrom(queryFields, opts) as Record<string, string | number | boolean>;
  const hasBody = op.method !== 'GET' && op.method !== 'DELETE';
  if (def.list) {
    ctx.print(await listAll(client, path, query), opts, def.columns);
    return;
  }
  const answer = await client.request<unknown>(op.method, path, { query, ...(hasBody ? { body } : {}) });
  if (def.waits && opts.wait) {
    await waitFor(def, { client, path, body, answer: answer.body }, opts, ctx);
    return;
  }
  if (answer.status === 204) return;
  if (def.verb === 'console' && opts.output === 'table') {
    ctx.io.stdout.write((answer.body as { lines: string[] }).lines.map((l) => `${l}\n`).join(''));
    return;
  }
  ctx.print(answer.body, opts, def.columns);
}

/**
 * --wait: follows the request's operations to their end, prints what it was for as it now stands (the instances
 * after a create or an action), and fails (exit 1) naming each failed operation.
 */
async function waitFor(
  def: CommandDef,
  sent: { client: BerthClient; path: string; body: Record<string, unknown>; answer: unknown },
  opts: Common,
  ctx: CommandContext,
): Promise<void> {
  const { client, path, body, answer } = sent;
  const ended = await waitForOperations(
    client,
    operationIdsOf(answer),
    progressTo(ctx.io.stderr as NodeJS.WriteStream, !!opts.quiet),
    Number(opts.timeout),
  );
  const failed = ended.filter((o) => o.status === 'failed');
  const instanceIds = def.noun === 'instance' && def.verb !== 'delete' ? instancesOf(answer, path) : [];
  const now =
    instanceIds.length > 0
      ? await Promise.all(instanceIds.map((id) => client.get(`/v1/instances/${id}`).catch(() => null)))
      : ended;
  ctx.print(now.length === 1 ? now[0] : now, opts, []);
  if (failed.length === 0) return;
  // A bulk create with --min-count asked for "at least that many": extras that found no room
  // are the request working as asked, said on stderr, not a failure.
  const minCount = typeof body['minCount'] === 'number' ? body['minCount'] : null;
  if (minCount !== null && ended.length - failed.length >= minCount) {
    ctx.io.stderr.write(
      `berth: ${ended.length - failed.length} of ${ended.length} built (at least ${minCount} asked); not built:\n` +
        failed.map((o) => `  ${describeFault(o)}\n`).join(''),
    );
    return;
  }
  throw new OperationFailed(failed.map(describeFault).join('\n'));
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
