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
}

/** A resource whose name a command may be given instead of its id, and where to look it up. */
export const RESOLVE = {
  instance: '/v1/instances',
  flavor: '/v1/flavors',
  image: '/v1/images',
  network: '/v1/networks',
  host: '/v1/hosts',
  project: '/v1/projects',
  'server-group': '/v1/server-groups',
  'security-group': '/v1/security-groups',
  /** Rules have no names: only their ids. */
  'security-group-rule': null,
  aggregate: '/v1/aggregates',
  token: '/v1/tokens',
  reservation: '/v1/reservations',
  operation: '/v1/operations',
} as const;
export type Noun = keyof typeof RESOLVE;

const path = (name: string, resolve: Noun) => ({ name, to: 'path' as const, resolve });
const named = { name: 'name', to: 'body' as const, field: 'name' };

const crud = (
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

const action = (verb: string, summary: string, only: string[], example: string): CommandDef => ({
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

export const COMMANDS: CommandDef[] = [
  {
    noun: 'instance',
    verb: 'create',
    op: 'InstancesController_create',
    arg: named,
    defaults: { kind: 'container' },
    waits: true,
    example: 'berth instance create web-1 --flavor m1.tiny --image busybox --network vlan100 --wait',
  },
  {
    noun: 'instance',
    verb: 'list',
    op: 'InstancesController_list',
    list: true,
    columns: ['id', 'name', 'kind', 'status', 'powerState', 'ip', 'host', 'flavor'],
    example: 'berth instance list -o json',
  },
  {
    noun: 'instance',
    verb: 'show',
    op: 'InstancesController_get',
    arg: path('instance', 'instance'),
    example: 'berth instance show web-1',
  },
  action('start', 'Start a stopped instance', [], 'berth instance start web-1 --wait'),
  action('stop', 'Stop an instance (its address and capacity stay)', [], 'berth instance stop web-1 --wait'),
  action('reboot', 'Reboot an instance, keeping its address', [], 'berth instance reboot web-1 --wait'),
  action(
    'resize',
    'Resize to another flavor, live on the same host where it fits',
    ['flavor', 'allowMove'],
    'berth instance resize web-1 --flavor m1.medium --wait',
  ),
  action(
    'set-limits',
    "Change an instance's throttles live (within its flavor's bounds)",
    ['limits'],
    'berth instance set-limits web-1 --limits netEgressMbps=100 --limits diskWriteIops=500 --wait',
  ),
  action(
    'migrate',
    'Admin: cold-migrate to another host (or where the scheduler chooses)',
    ['host'],
    'berth instance migrate web-1 --host tb2 --wait',
  ),
  action(
    'set-security-groups',
    "Put an instance's port in exactly these security groups (applied live)",
    ['securityGroups'],
    'berth instance set-security-groups web-1 --security-groups default --security-groups web',
  ),
  action(
    'set-port-security',
    'Change what an instance may send from (allowed address pairs); admin: switch its checks off or on',
    ['allowedAddressPairs', 'portSecurity'],
    'berth instance set-port-security web-1 --allowed-address-pairs ip=10.0.0.200',
  ),
  action('confirm', 'Admin: keep a migrated instance where it went', [], 'berth instance confirm web-1 --wait'),
  action('revert', 'Admin: move a migrated instance back', [], 'berth instance revert web-1 --wait'),
  {
    noun: 'instance',
    verb: 'delete',
    op: 'InstancesController_remove',
    arg: path('instance', 'instance'),
    waits: true,
    example: 'berth instance delete web-1 --wait',
  },
  {
    noun: 'instance',
    verb: 'console',
    op: 'InstancesController_console',
    arg: path('instance', 'instance'),
    example: 'berth instance console vm-1 --lines 20',
  },
  {
    noun: 'instance',
    verb: 'stats',
    op: 'InstancesController_stats',
    arg: path('instance', 'instance'),
    example: 'berth instance stats web-1 --interval 2',
  },
  {
    noun: 'instance',
    verb: 'migrations',
    op: 'InstancesController_migrations',
    arg: path('instance', 'instance'),
    list: true,
    columns: ['id', 'status', 'source', 'target', 'createdAt'],
    example: 'berth instance migrations web-1',
  },

  ...crud('flavor', 'FlavorsController', ['id', 'name', 'vcpus', 'ramMb', 'diskGb', 'cpuPolicy'], {
    example: 'berth flavor create m1.small --vcpus 1 --ram-mb 512 --disk-gb 5',
  }),
  {
    noun: 'flavor',
    verb: 'delete',
    op: 'FlavorsController_remove',
    arg: path('flavor', 'flavor'),
    example: 'berth flavor delete m1.small',
  },

  ...crud('image', 'ImagesController', ['id', 'name', 'kind', 'ref', 'visibility'], {
    example: 'berth image create busybox --kind container --ref 127.0.0.1:5000/busybox:latest',
  }),
  {
    noun: 'image',
    verb: 'delete',
    op: 'ImagesController_remove',
    arg: path('image', 'image'),
    example: 'berth image delete busybox',
  },
  {
    noun: 'image',
    verb: 'prewarm',
    op: 'ImagesController_prewarm',
    arg: path('image', 'image'),
    waits: true,
    example: 'berth image prewarm busybox --zone zone-a --wait',
  },

  ...crud('network', 'NetworksController', ['id', 'name', 'vlan', 'cidr', 'gateway', 'ipsUsed'], {
    example: 'berth network create vlan100 --vlan 100 --cidr 10.100.0.0/24 --gateway 10.100.0.1',
  }),
  {
    noun: 'network',
    verb: 'delete',
    op: 'NetworksController_remove',
    arg: path('network', 'network'),
    example: 'berth network delete vlan100',
  },

  {
    noun: 'host',
    verb: 'list',
    op: 'HostsController_list',
    list: true,
    columns: ['id', 'name', 'state', 'enabled', 'zone', 'usedInstances'],
    example: 'berth host list',
  },
  { noun: 'host', verb: 'show', op: 'HostsController_get', arg: path('host', 'host'), example: 'berth host show tb1' },
  {
    noun: 'host',
    verb: 'enroll',
    op: 'HostsController_enroll',
    arg: named,
    files: { privateKey: 'private-key-file' },
    waits: true,
    example: 'berth host enroll tb4 --address 10.250.0.14 --private-key-file ~/.ssh/berth_enroll --wait',
  },
  {
    noun: 'host',
    verb: 'set',
    op: 'HostsController_update',
    arg: path('host', 'host'),
    example: 'berth host set tb1 --enabled false --disabled-reason maintenance',
  },
  {
    noun: 'host',
    verb: 'drain',
    op: 'HostsController_drain',
    arg: path('host', 'host'),
    waits: true,
    example: 'berth host drain tb1 --wait',
  },
  {
    noun: 'host',
    verb: 'evacuate',
    op: 'HostsController_evacuate',
    arg: path('host', 'host'),
    waits: true,
    example: 'berth host evacuate tb1 --wait',
  },

  ...crud('project', 'ProjectsController', ['id', 'name', 'createdAt'], { example: 'berth project create shop' }),
  {
    noun: 'quota',
    verb: 'show',
    op: 'ProjectsController_quotas',
    arg: path('project', 'project'),
    example: 'berth quota show shop',
  },
  {
    noun: 'quota',
    verb: 'set',
    op: 'ProjectsController_setQuotas',
    arg: path('project', 'project'),
    example: 'berth quota set shop --instances 50 --vcpus 100',
  },

  { noun: 'user', verb: 'create', op: 'UsersController_create', arg: named, example: 'berth user create alice' },
  {
    noun: 'user',
    verb: 'list',
    op: 'UsersController_list',
    list: true,
    columns: ['id', 'name', 'createdAt'],
    example: 'berth user list',
  },

  {
    noun: 'token',
    verb: 'create',
    op: 'TokensController_create',
    columns: ['id', 'token'],
    example: 'berth token create --user alice --project shop --role member -o value -c token',
  },
  {
    noun: 'token',
    verb: 'list',
    op: 'TokensController_list',
    list: true,
    columns: ['id', 'name', 'role', 'projectId', 'expiresAt', 'revokedAt'],
    example: 'berth token list',
  },
  {
    noun: 'token',
    verb: 'revoke',
    op: 'TokensController_revoke',
    arg: path('token', 'token'),
    example: 'berth token revoke <token id>',
  },

  ...crud('server-group', 'ServerGroupsController', ['id', 'name', 'policy', 'members'], {
    example: 'berth server-group create web --policy soft-anti-affinity',
  }),
  {
    noun: 'server-group',
    verb: 'delete',
    op: 'ServerGroupsController_remove',
    arg: path('server-group', 'server-group'),
    example: 'berth server-group delete web',
  },

  ...crud('security-group', 'SecurityGroupsController', ['id', 'name', 'description', 'rules', 'members'], {
    example: 'berth security-group create web --description "what the web tier serves"',
  }),
  {
    noun: 'security-group',
    verb: 'delete',
    op: 'SecurityGroupsController_remove',
    arg: path('security-group', 'security-group'),
    example: 'berth security-group delete web',
  },
  {
    noun: 'security-group',
    verb: 'rule-create',
    op: 'SecurityGroupsController_addRule',
    arg: path('security-group', 'security-group'),
    example:
      'berth security-group rule-create web --direction ingress --protocol tcp --port-min 443 --remote-cidr 0.0.0.0/0',
  },
  {
    noun: 'security-group',
    verb: 'rule-delete',
    op: 'SecurityGroupRulesController_remove',
    arg: { name: 'rule', to: 'path', resolve: 'security-group-rule' },
    example: 'berth security-group rule-delete <rule id> --cut true',
  },

  ...crud('reservation', 'ReservationsController', ['id', 'flavor', 'count', 'free', 'zone', 'endsAt'], {
    example: 'berth reservation create --flavor m1.small --count 20 --ends-at 2026-12-24T00:00:00Z',
    arg: null,
  }),
  {
    noun: 'reservation',
    verb: 'delete',
    op: 'ReservationsController_release',
    arg: path('reservation', 'reservation'),
    example: 'berth reservation delete <reservation id>',
  },

  ...crud('aggregate', 'AggregatesController', ['id', 'name', 'metadata', 'hosts'], {
    example: 'berth aggregate create fast --metadata disk=ssd --hosts tb1 --hosts tb2',
  }),
  {
    noun: 'aggregate',
    verb: 'set',
    op: 'AggregatesController_update',
    arg: path('aggregate', 'aggregate'),
    example: 'berth aggregate set fast --hosts tb1',
  },
  {
    noun: 'aggregate',
    verb: 'delete',
    op: 'AggregatesController_remove',
    arg: path('aggregate', 'aggregate'),
    example: 'berth aggregate delete fast',
  },

  {
    noun: 'capacity',
    verb: 'show',
    op: 'SchedulingController_capacity',
    example: 'berth capacity show --flavor m1.small',
  },
  {
    noun: 'scheduler',
    verb: 'dry-run',
    op: 'SchedulingController_dryRun',
    arg: named,
    defaults: { kind: 'container' },
    example: 'berth scheduler dry-run web --flavor m1.small --image busybox --network vlan100 --count 10',
  },
  { noun: 'usage', verb: 'audit', op: 'UsageController_audit', example: 'berth usage audit' },
  { noun: 'usage', verb: 'repair', op: 'UsageController_repair', example: 'berth usage repair' },

  {
    noun: 'operation',
    verb: 'list',
    op: 'OperationsController_list',
    list: true,
    columns: ['id', 'action', 'status', 'targetType', 'targetId', 'startedAt'],
    example: 'berth operation list --status failed --since 2026-12-01T00:00:00Z',
  },
  {
    noun: 'operation',
    verb: 'show',
    op: 'OperationsController_get',
    arg: path('operation', 'operation'),
    example: 'berth operation show <operation id>',
  },
];
