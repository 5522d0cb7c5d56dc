import { ApiError, type BerthClient } from '@berth/client';
import { Option, type Command } from 'commander';
import type { Writable } from 'node:stream';
import { RESOLVE, type Noun } from './commands';
import { FORMATS, type Format } from './output';
import type { OperationView } from './wait';

/** What every part of the CLI shares: the terminal, the common options, errors, and name lookups. */

export interface Io {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

/** The command line was wrong (exit 2). */
export class UsageError extends Error {}
/** An operation followed with --wait ended failed (exit 1). */
export class OperationFailed extends Error {}

export const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface Common {
  output: Format;
  column?: string[];
  url?: string;
  profile?: string;
  wait?: boolean;
  timeout: string;
  quiet?: boolean;
}

export function addCommon(cmd: Command, waits: boolean): Command {
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

export function describeFault(op: OperationView): string {
  const fault = op.fault;
  return `operation ${op.id} (${op.action}) failed${fault ? ` at step ${fault.step}: ${fault.message}` : ''}`;
}

/** Every item of a list, following nextCursor where the API pages. */
export async function listAll(
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
export async function resolveRef(client: BerthClient, noun: Noun, ref: string): Promise<string> {
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

/** All of a stream, as text (a secret piped in). */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
