/**
 * Every `berth <noun> <verb>`, as data: which API operation it calls, what its argument is, which
 * request fields become flags (all of the operation's, from the OpenAPI document, unless narrowed)
 * and how its answer prints. program.ts turns each into a commander command.
 */
export interface CommandDef {
  noun: string;
  verb: string;
  /** operationId in the OpenAPI document (generated/api.ts). */
  op: string;
  summary?: string;
  /** Shown under --help and in docs/cli.md. */
  example: string;
  /** The positional argument: a path id (a name is looked up in `resolve`'s list) or a body field. */
  arg?: { name: string; to: 'path'; resolve: Noun } | { name: string; to: 'body'; field: string };
  /** Body fields fixed by the command (an action's name). */
  fixed?: Record<string, unknown>;
  /** Body fields the API requires that the CLI fills when not given. */
  defaults?: Record<string, unknown>;
  /** Only these request fields become flags (default: every field but the argument and fixed ones). */
  only?: string[];
  /** Columns of the table for a list, and of `-o value` by default. */
  columns?: string[];
  /** The answer is a list ({items}, pages followed through nextCursor). */
  list?: boolean;
  /** The answer names operations: --wait follows them to their end. */
  waits?: boolean;
  /** Fields read from a file named by a flag, never given on the command line (a private key). */
  files?: Record<string, string>;
  /**
   * Secret body fields read from standard input, one a line in this order, with --<first field>-stdin; never
   * flags, whose values other users of the machine can read. Without the flag they are not sent.
   */
  stdinFields?: string[];
  /** Path parameters besides the argument, each a required flag sent as given ({user}: --user alice). */
  pathFlags?: Record<string, string>;
}

/** A resource whose name a command may be given instead of its id, and where to look it up. */
export const RESOLVE = {
  instance: '/v1/instances',
  flavor: '/v1/flavors',
  image: '/v1/images',
  network: '/v1/networks',
  host: '/v1/hosts',
  project: '/v1/projects',
  user: '/v1/users',
  'server-group': '/v1/server-groups',
  'security-group': '/v1/security-groups',
  /** Rules have no names: only their ids. */
  'security-group-rule': null,
  aggregate: '/v1/aggregates',
  token: '/v1/tokens',
  reservation: '/v1/reservations',
  operation: '/v1/operations',
  volume: '/v1/volumes',
  'volume-type': '/v1/volume-types',
} as const;
export type Noun = keyof typeof RESOLVE;

export const path = (name: string, resolve: Noun) => ({ name, to: 'path' as const, resolve });
export const named = { name: 'name', to: 'body' as const, field: 'name' };

export const crud = (
  noun: Noun,
  ops: string,
  columns: string[],
  create: { example: string; arg?: CommandDef['arg'] | null } | null,
): CommandDef[] => [
  ...(create
    ? [
        {
          noun,
          verb: 'create',
          op: `${ops}_create`,
          ...(create.arg === null ? {} : { arg: create.arg ?? named }),
          example: create.example,
        },
      ]
    : []),
  { noun, verb: 'list', op: `${ops}_list`, list: true, columns, example: `berth ${noun} list` },
  { noun, verb: 'show', op: `${ops}_get`, arg: path(noun, noun), example: `berth ${noun} show <name or id>` },
];

export const action = (verb: string, summary: string, only: string[], example: string): CommandDef => ({
  noun: 'instance',
  verb,
  op: 'InstancesController_act',
  summary,
  arg: path('instance', 'instance'),
  fixed: { action: verb },
  only,
  waits: true,
  example,
});
