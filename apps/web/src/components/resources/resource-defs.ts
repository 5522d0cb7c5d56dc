import { ENUMS } from '../../generated/api-types';
import type { FieldDef } from './fields';

/** One resource of the API the console lists, creates and deletes the same way (ResourceTable). */
export interface ResourceDef<T extends { id: string }> {
  key: string;
  title: string;
  /** Its collection, e.g. /v1/flavors. */
  path: string;
  columns: Array<{ label: string; value: (item: T) => string }>;
  /**
   * Who may create one, by the session's role; absent: nobody here. `reveal` names a property of the answer shown
   * once, with a copy button (a token's secret).
   */
  create?: { fields: FieldDef[]; roles: readonly string[]; reveal?: string };
  /** Who may change one (PUT to its path) and with which fields, opened with its current values; absent: nobody. */
  edit?: { fields: FieldDef[]; roles: readonly string[] };
  /** Who may delete one; absent: nobody here. */
  remove?: { roles: readonly string[]; what: (item: T) => string; label?: string };
  /** Shown to these roles only; absent: everyone. */
  roles?: readonly string[];
}

export const ADMIN = ['admin'] as const;
export const MEMBERS = ['admin', 'project-admin', 'member'] as const;
const mb = (n: number) => `${n} MB`;

interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ramMb: number;
  diskGb: number;
}
interface Image {
  id: string;
  name: string;
  kind: string;
  ref: string;
  visibility: string;
}
interface Network {
  id: string;
  name: string;
  vlan: number;
  cidr: string | null;
  gateway: string | null;
  ipsUsed: number;
  ipsTotal: number;
}
interface ServerGroup {
  id: string;
  name: string;
  policy: string;
  members: unknown[];
}
interface Aggregate {
  id: string;
  name: string;
  metadata: Record<string, string>;
  hosts: string[];
}
interface Named {
  id: string;
  name: string;
  createdAt: string;
}
interface Token {
  id: string;
  name: string | null;
  role: string;
  projectId: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

const when = (at: string | null) => (at ? new Date(at).toLocaleString() : 'never');

export const FLAVORS: ResourceDef<Flavor> = {
  key: 'flavors',
  title: 'Flavors',
  path: '/v1/flavors',
  columns: [
    { label: 'Name', value: (f) => f.name },
    { label: 'vCPUs', value: (f) => String(f.vcpus) },
    { label: 'RAM', value: (f) => mb(f.ramMb) },
    { label: 'Disk', value: (f) => `${f.diskGb} GB` },
  ],
  create: {
    roles: ADMIN,
    fields: [
      { name: 'name', label: 'Name', type: 'text', required: true },
      { name: 'vcpus', label: 'vCPUs', type: 'number', required: true },
      { name: 'ramMb', label: 'RAM (MB)', type: 'number', required: true },
      { name: 'diskGb', label: 'Disk (GB)', type: 'number', required: true },
      { name: 'cpuPolicy', label: 'CPU policy', type: 'select', options: ENUMS.CreateFlavorDto.cpuPolicy },
      { name: 'cpuQuota', label: 'CPU quota (%)', type: 'number', placeholder: '100' },
      { name: 'pidsLimit', label: 'Processes', type: 'number', placeholder: "the cloud's default" },
      { name: 'diskReadIops', label: 'Disk read (IO/s)', type: 'number', placeholder: 'unlimited' },
      { name: 'diskWriteIops', label: 'Disk write (IO/s)', type: 'number', placeholder: 'unlimited' },
      { name: 'diskReadBps', label: 'Disk read rate (B/s)', type: 'number', placeholder: 'unlimited' },
      { name: 'diskWriteBps', label: 'Disk write rate (B/s)', type: 'number', placeholder: 'unlimited' },
      { name: 'diskWeight', label: 'Disk weight', type: 'number', placeholder: '100' },
      { name: 'netIngressMbps', label: 'Network in (Mbit/s)', type: 'number', placeholder: 'unlimited' },
      { name: 'netEgressMbps', label: 'Network out (Mbit/s)', type: 'number', placeholder: 'unlimited' },
      {
        name: 'limitBounds',
        label: 'Limits members may choose',
        type: 'bounds',
        placeholder: 'pidsLimit=64..512',
        help: 'One throttle a line, name=min..max; a throttle not named is fixed by the flavor',
      },
      {
        name: 'extraSpecs',
        label: 'Extra specs',
        type: 'map',
        placeholder: 'aggregate:disk=ssd',
        help: 'key=value, one a line',
      },
    ],
  },
  remove: { roles: ADMIN, what: (f) => `flavor ${f.name}` },
};

export const IMAGES: ResourceDef<Image> = {
  key: 'images',
  title: 'Images',
  path: '/v1/images',
  columns: [
    { label: 'Name', value: (i) => i.name },
    { label: 'Kind', value: (i) => i.kind },
    { label: 'Reference', value: (i) => i.ref },
    { label: 'Visibility', value: (i) => i.visibility },
  ],
  create: {
    roles: MEMBERS,
    fields: [
      { name: 'name', label: 'Name', type: 'text', required: true },
      { name: 'kind', label: 'Kind', type: 'select', options: ENUMS.CreateImageDto.kind, required: true },
      {
        name: 'ref',
        label: 'Reference',
        type: 'text',
        required: true,
        placeholder: 'registry:5000/app:1.0',
        help: "A container's Docker image; a VM's qcow2 disk, a path on the hosts or a URL they reach",
      },
      { name: 'kernelRef', label: 'Kernel', type: 'text', help: 'A VM only: a kernel to boot directly (path or URL)' },
      { name: 'initrdRef', label: 'Initrd', type: 'text', help: 'A VM with a kernel: its initrd (path or URL)' },
      {
        name: 'cmdline',
        label: 'Kernel command line',
        type: 'text',
        help: 'A VM with a kernel: more of its command line',
      },
      { name: 'visibility', label: 'Visibility', type: 'select', options: ENUMS.CreateImageDto.visibility },
    ],
  },
  remove: { roles: MEMBERS, what: (i) => `image ${i.name}` },
};

export const NETWORKS: ResourceDef<Network> = {
  key: 'networks',
  title: 'Networks',
  path: '/v1/networks',
  columns: [
    { label: 'Name', value: (n) => n.name },
    { label: 'VLAN', value: (n) => String(n.vlan) },
    { label: 'Subnet', value: (n) => n.cidr ?? '' },
    { label: 'Gateway', value: (n) => n.gateway ?? '' },
    { label: 'Addresses used', value: (n) => `${n.ipsUsed} of ${n.ipsTotal}` },
  ],
  create: {
    roles: ADMIN,
    fields: [
      { name: 'name', label: 'Name', type: 'text', required: true },
      { name: 'vlan', label: 'VLAN', type: 'number', required: true },
      { name: 'cidr', label: 'Subnet', type: 'text', required: true, placeholder: '10.0.0.0/24' },
      { name: 'gateway', label: 'Gateway', type: 'text', required: true, placeholder: '10.0.0.1' },
    ],
  },
  remove: { roles: ADMIN, what: (n) => `network ${n.name}` },
};

export const SERVER_GROUPS: ResourceDef<ServerGroup> = {
  key: 'server-groups',
  title: 'Server groups',
  path: '/v1/server-groups',
  columns: [
    { label: 'Name', value: (g) => g.name },
    { label: 'Policy', value: (g) => g.policy },
    { label: 'Members', value: (g) => String(g.members.length) },
  ],
  create: {
    roles: MEMBERS,
    fields: [
      { name: 'name', label: 'Name', type: 'text', required: true },
      {
        name: 'policy',
        label: 'Policy',
        type: 'select',
        options: ENUMS.CreateServerGroupDto.policy,
        // Spread apart by default: what a group is most often made for.
        initial: () => 'anti-affinity',
        required: true,
      },
    ],
  },
  remove: { roles: MEMBERS, what: (g) => `server group ${g.name}` },
};

const AGGREGATE_FIELDS: FieldDef[] = [
  {
    name: 'metadata',
    label: 'Metadata',
    type: 'map',
    placeholder: 'disk=ssd',
    help: 'key=value, one a line; flavors ask for it with the extra spec aggregate:<key>=<value>',
  },
  {
    name: 'hosts',
    label: 'Hosts',
    type: 'list',
    placeholder: 'host-1, host-2',
    help: 'Host names; the members from now on',
  },
];

export const AGGREGATES: ResourceDef<Aggregate> = {
  key: 'aggregates',
  title: 'Aggregates',
  path: '/v1/aggregates',
  roles: ADMIN,
  columns: [
    { label: 'Name', value: (a) => a.name },
    {
      label: 'Metadata',
      value: (a) =>
        Object.entries(a.metadata)
          .map(([k, v]) => `${k}=${v}`)
          .join(', '),
    },
    { label: 'Hosts', value: (a) => a.hosts.join(', ') },
  ],
  create: {
    roles: ADMIN,
    fields: [{ name: 'name', label: 'Name', type: 'text', required: true }, ...AGGREGATE_FIELDS],
  },
  edit: { roles: ADMIN, fields: AGGREGATE_FIELDS },
  remove: { roles: ADMIN, what: (a) => `aggregate ${a.name}` },
};

export const PROJECTS: ResourceDef<Named> = {
  key: 'projects',
  title: 'Projects',
  path: '/v1/projects',
  roles: ADMIN,
  columns: [
    { label: 'Name', value: (p) => p.name },
    { label: 'Created', value: (p) => when(p.createdAt) },
  ],
  create: { roles: ADMIN, fields: [{ name: 'name', label: 'Name', type: 'text', required: true }] },
  remove: { roles: ADMIN, what: (p) => `project ${p.name}` },
};

export const USERS: ResourceDef<Named> = {
  key: 'users',
  title: 'Users',
  path: '/v1/users',
  roles: ADMIN,
  columns: [
    { label: 'Name', value: (u) => u.name },
    { label: 'Created', value: (u) => when(u.createdAt) },
  ],
  create: {
    roles: ADMIN,
    fields: [
      { name: 'name', label: 'Name', type: 'text', required: true },
      { name: 'password', label: 'Password', type: 'password' },
    ],
  },
  remove: { roles: ADMIN, what: (u) => `user ${u.name}` },
};

export const TOKENS: ResourceDef<Token> = {
  key: 'tokens',
  title: 'Tokens',
  path: '/v1/tokens',
  columns: [
    { label: 'Name', value: (t) => t.name ?? '' },
    { label: 'Role', value: (t) => t.role },
    { label: 'Project', value: (t) => t.projectId.slice(0, 8) },
    { label: 'Expires', value: (t) => when(t.expiresAt) },
    { label: 'Revoked', value: (t) => (t.revokedAt ? when(t.revokedAt) : '') },
  ],
  create: {
    roles: MEMBERS,
    reveal: 'token',
    fields: [
      { name: 'name', label: 'Name', type: 'text', placeholder: 'ci-deploy' },
      { name: 'user', label: 'User', type: 'text', required: true, initial: (who) => who.user },
      { name: 'project', label: 'Project', type: 'text', required: true, initial: (who) => who.project },
      {
        name: 'role',
        label: 'Role',
        type: 'select',
        options: ENUMS.CreateTokenDto.role,
        required: true,
        initial: (who) => who.role,
        help: 'At most your own role',
      },
      { name: 'expiresAt', label: 'Expires', type: 'datetime', help: 'Empty: it works until revoked' },
    ],
  },
  remove: {
    roles: ENUMS.TokenView.role,
    what: (t) => `token ${t.name ?? t.id.slice(0, 8)}`,
    label: 'Revoke',
  },
};
