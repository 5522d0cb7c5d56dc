import { action, crud, named, path, type CommandDef } from './command-defs';
import { ADMIN_COMMANDS } from './commands-admin';

export { RESOLVE, type CommandDef, type Noun } from './command-defs';

/** Every `berth <noun> <verb>`: the tenants' commands here, the operators' in commands-admin.ts. */
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
    'Resize to another flavor, live on the same host where it fits (--verify: then confirm or revert it)',
    ['flavor', 'allowMove', 'verify'],
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
    'attach',
    'Attach a volume on the same host: a container mounts it at --path, a VM sees a disk with --serial',
    ['volume', 'path', 'serial'],
    'berth instance attach web-1 --volume <volume id> --path /data --wait',
  ),
  action('detach', 'Detach a volume; its data stays', ['volume'], 'berth instance detach web-1 --volume <volume id>'),
  action(
    'snapshot',
    "Make a private image of the instance, running or not: a container committed, a VM's disk flattened",
    ['name'],
    'berth instance snapshot web-1 --name web-golden --wait',
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
  action(
    'confirm',
    'Keep a resize asked with --verify (its owner), or a migrated instance where it went (admin)',
    [],
    'berth instance confirm web-1 --wait',
  ),
  action(
    'revert',
    'Go back to the size before a resize asked with --verify (its owner), or move a migrated instance back (admin)',
    [],
    'berth instance revert web-1 --wait',
  ),
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

  ...crud('volume', 'VolumesController', ['id', 'name', 'sizeGb', 'status', 'type', 'createdAt'], {
    example: 'berth volume create db-data --size-gb 10 --wait',
  }).map((c) => (c.verb === 'create' ? { ...c, waits: true } : c)),
  {
    noun: 'volume',
    verb: 'extend',
    op: 'VolumesController_act',
    arg: path('volume', 'volume'),
    fixed: { action: 'extend' },
    waits: true,
    example: 'berth volume extend db-data --size-gb 20 --wait',
  },
  {
    noun: 'volume',
    verb: 'delete',
    op: 'VolumesController_remove',
    arg: path('volume', 'volume'),
    waits: true,
    example: 'berth volume delete db-data --wait',
  },
  ...crud('volume-type', 'VolumeTypesController', ['id', 'name', 'backend', 'isDefault', 'readIops', 'writeIops'], {
    example: 'berth volume-type create fast --read-iops 2000 --write-iops 1000',
  }),
  {
    noun: 'volume-type',
    verb: 'delete',
    op: 'VolumeTypesController_remove',
    arg: path('volume-type', 'volume-type'),
    example: 'berth volume-type delete fast',
  },

  ...ADMIN_COMMANDS,
];
