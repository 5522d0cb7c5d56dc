import { crud, named, path, type CommandDef } from './command-defs';

/** The operators' commands: hosts, projects and quotas, users and tokens, groups, reservations, aggregates, capacity. */
export const ADMIN_COMMANDS: CommandDef[] = [
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
    noun: 'project',
    verb: 'delete',
    op: 'ProjectsController_remove',
    arg: path('project', 'project'),
    example: 'berth project delete shop',
  },
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

  {
    noun: 'project',
    verb: 'members',
    op: 'MembersController_list',
    arg: path('project', 'project'),
    list: true,
    columns: ['userName', 'role', 'createdAt'],
    example: 'berth project members shop',
  },
  {
    noun: 'project',
    verb: 'add-member',
    op: 'MembersController_set',
    arg: path('project', 'project'),
    pathFlags: { user: 'user' },
    example: 'berth project add-member shop --user alice --role member',
  },
  {
    noun: 'project',
    verb: 'remove-member',
    op: 'MembersController_remove',
    arg: path('project', 'project'),
    pathFlags: { user: 'user' },
    example: 'berth project remove-member shop --user alice',
  },

  {
    noun: 'user',
    verb: 'create',
    op: 'UsersController_create',
    arg: named,
    only: [],
    stdinFields: ['password'],
    example: 'berth user create alice --password-stdin < password.txt',
  },
  {
    noun: 'user',
    verb: 'set-password',
    op: 'UsersController_setPassword',
    arg: path('user', 'user'),
    only: [],
    stdinFields: ['password', 'currentPassword'],
    // The new password on the first line of standard input, your current one on the second.
    example: 'berth user set-password alice --password-stdin < passwords.txt',
  },
  {
    noun: 'user',
    verb: 'delete',
    op: 'UsersController_remove',
    arg: path('user', 'user'),
    example: 'berth user delete alice',
  },
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
