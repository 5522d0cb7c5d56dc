import Ajv, { type ValidateFunction } from 'ajv';

/**
 * The OpenStack face's answers as JSON Schemas, written from the upstream API references for the versions served
 * (Keystone v3, Nova v2.1 at microversion 2.1, Glance v2, Neutron v2.0) and from what the clients read
 * (../shared/OPENSTACK.md). Every object lists its fields and allows no other: none missing, none extra.
 */
type Schema = Record<string, unknown>;

/** An object with exactly these fields, all required unless named in `optional`. */
const obj = (properties: Record<string, Schema>, optional: string[] = []): Schema => ({
  type: 'object',
  properties,
  required: Object.keys(properties).filter((k) => !optional.includes(k)),
  additionalProperties: false,
});
const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const bool: Schema = { type: 'boolean' };
const nil: Schema = { type: 'null' };
const uuid: Schema = { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' };
const arr = (items: Schema): Schema => ({ type: 'array', items });
const anyOf = (...schemas: Schema[]): Schema => ({ anyOf: schemas });
const NOVA_TIME: Schema = { type: 'string', pattern: '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$' };
const KEYSTONE_TIME: Schema = { type: 'string', pattern: '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z$' };
const link = obj({ rel: str, href: str });
const typedLink = obj({ rel: str, href: str, type: str }, ['type']);
const domain = obj({ id: { const: 'default' }, name: { const: 'Default' } });

const identityVersion = obj({
  id: { const: 'v3.14' },
  status: { const: 'stable' },
  updated: str,
  links: arr(link),
  'media-types': arr(obj({ base: str, type: str })),
});

const endpoint = obj({ id: str, interface: { const: 'public' }, region: str, region_id: str, url: str });

const token = obj({
  token: obj(
    {
      methods: arr({ enum: ['password', 'token', 'application_credential'] }),
      user: obj({ id: uuid, name: str, domain, password_expires_at: nil }),
      audit_ids: arr(str),
      expires_at: KEYSTONE_TIME,
      issued_at: KEYSTONE_TIME,
      project: obj({ id: uuid, name: str, domain }),
      is_domain: { const: false },
      roles: arr(obj({ id: str, name: str })),
      catalog: arr(obj({ id: str, type: str, name: str, endpoints: arr(endpoint) })),
      application_credential: obj({ id: uuid, name: str, restricted: bool }),
    },
    ['application_credential'],
  ),
});

/** Keystone's application credential; its secret only in the answer to its create. */
const applicationCredential = obj(
  {
    id: uuid,
    name: str,
    description: str,
    expires_at: anyOf(KEYSTONE_TIME, nil),
    project_id: uuid,
    roles: arr(obj({ id: str, name: str, domain_id: nil })),
    unrestricted: bool,
    access_rules: arr(obj({})),
    user_id: uuid,
    links: obj({ self: str }),
    secret: str,
  },
  ['secret'],
);

const keystoneProject = obj({
  id: uuid,
  name: str,
  domain_id: { const: 'default' },
  description: str,
  enabled: bool,
  is_domain: { const: false },
  parent_id: str,
  tags: arr(str),
  options: { type: 'object' },
  links: obj({ self: str }),
});

const computeVersion = obj({
  id: { const: 'v2.1' },
  status: { const: 'CURRENT' },
  version: { const: '2.1' },
  min_version: { const: '2.1' },
  updated: str,
  links: arr(typedLink),
  'media-types': arr(obj({ base: str, type: str })),
});

const flavorSummary = obj({ id: uuid, name: str, links: arr(link) });
const flavor = obj({
  id: uuid,
  name: str,
  ram: int,
  vcpus: int,
  disk: int,
  swap: anyOf({ const: '' }, int),
  'OS-FLV-EXT-DATA:ephemeral': int,
  'OS-FLV-DISABLED:disabled': bool,
  'os-flavor-access:is_public': bool,
  rxtx_factor: { type: 'number' },
  links: arr(link),
});

const address = obj({
  version: { const: 4 },
  addr: str,
  'OS-EXT-IPS:type': { const: 'fixed' },
  'OS-EXT-IPS-MAC:mac_addr': { type: 'string', pattern: '^([0-9a-f]{2}:){5}[0-9a-f]{2}$' },
});

const ADMIN_FIELDS = ['OS-EXT-SRV-ATTR:host', 'OS-EXT-SRV-ATTR:instance_name', 'OS-EXT-SRV-ATTR:hypervisor_hostname'];
const server = obj(
  {
    id: uuid,
    name: str,
    status: {
      enum: [
        'BUILD',
        'ACTIVE',
        'SHUTOFF',
        'REBOOT',
        'HARD_REBOOT',
        'RESIZE',
        'VERIFY_RESIZE',
        'REVERT_RESIZE',
        'MIGRATING',
        'ERROR',
        'DELETED',
      ],
    },
    tenant_id: uuid,
    user_id: str,
    metadata: { type: 'object', additionalProperties: str },
    hostId: str,
    image: anyOf({ const: '' }, obj({ id: uuid, links: arr(link) })),
    flavor: obj({ id: str, links: arr(link) }),
    created: NOVA_TIME,
    updated: NOVA_TIME,
    addresses: { type: 'object', additionalProperties: arr(address) },
    accessIPv4: str,
    accessIPv6: str,
    links: arr(link),
    'OS-DCF:diskConfig': { enum: ['MANUAL', 'AUTO'] },
    progress: int,
    'OS-EXT-AZ:availability_zone': str,
    config_drive: str,
    key_name: anyOf(str, nil),
    'OS-SRV-USG:launched_at': anyOf(str, nil),
    'OS-SRV-USG:terminated_at': anyOf(str, nil),
    security_groups: arr(obj({ name: str })),
    'OS-EXT-STS:task_state': anyOf(str, nil),
    'OS-EXT-STS:vm_state': str,
    'OS-EXT-STS:power_state': { enum: [0, 1, 3, 4, 6, 7] },
    'os-extended-volumes:volumes_attached': arr(obj({ id: str })),
    'OS-EXT-SRV-ATTR:host': anyOf(str, nil),
    'OS-EXT-SRV-ATTR:instance_name': str,
    'OS-EXT-SRV-ATTR:hypervisor_hostname': anyOf(str, nil),
    fault: obj({ code: int, created: NOVA_TIME, message: str }),
  },
  ['progress', 'fault', ...ADMIN_FIELDS],
);

const absolute = obj(
  Object.fromEntries(
    [
      'maxServerMeta',
      'maxPersonality',
      'maxPersonalitySize',
      'maxImageMeta',
      'maxTotalKeypairs',
      'maxServerGroups',
      'maxServerGroupMembers',
      'maxSecurityGroups',
      'maxSecurityGroupRules',
      'maxTotalInstances',
      'maxTotalCores',
      'maxTotalRAMSize',
      'maxTotalFloatingIps',
      'totalInstancesUsed',
      'totalCoresUsed',
      'totalRAMUsed',
      'totalSecurityGroupsUsed',
      'totalFloatingIpsUsed',
      'totalServerGroupsUsed',
    ].map((k) => [k, int]),
  ),
);

const quotaSet = obj({
  id: uuid,
  ...Object.fromEntries(
    [
      'instances',
      'cores',
      'ram',
      'key_pairs',
      'metadata_items',
      'injected_files',
      'injected_file_content_bytes',
      'injected_file_path_bytes',
      'server_groups',
      'server_group_members',
      'security_groups',
      'security_group_rules',
      'fixed_ips',
      'floating_ips',
    ].map((k) => [k, int]),
  ),
});

const image = obj({
  id: uuid,
  name: str,
  status: { const: 'active' },
  visibility: { enum: ['public', 'private', 'shared', 'community'] },
  protected: bool,
  os_hidden: bool,
  owner: anyOf(str, nil),
  container_format: { enum: ['docker', 'bare'] },
  disk_format: { enum: ['raw', 'qcow2'] },
  size: anyOf(int, nil),
  virtual_size: anyOf(int, nil),
  checksum: anyOf(str, nil),
  os_hash_algo: anyOf(str, nil),
  os_hash_value: anyOf(str, nil),
  min_disk: int,
  min_ram: int,
  tags: arr(str),
  berth_ref: str,
  created_at: NOVA_TIME,
  updated_at: NOVA_TIME,
  self: str,
  file: str,
  schema: str,
});

const network = obj({
  id: uuid,
  name: str,
  status: { const: 'ACTIVE' },
  admin_state_up: bool,
  shared: bool,
  external: bool,
  subnets: arr(uuid),
  tenant_id: str,
  project_id: str,
  mtu: int,
  port_security_enabled: bool,
  'router:external': bool,
  'provider:network_type': { const: 'vlan' },
  'provider:physical_network': str,
  'provider:segmentation_id': int,
  availability_zones: arr(str),
  tags: arr(str),
  description: str,
  created_at: NOVA_TIME,
  updated_at: NOVA_TIME,
});

const subnet = obj({
  id: uuid,
  name: str,
  network_id: uuid,
  tenant_id: str,
  project_id: str,
  cidr: str,
  gateway_ip: str,
  ip_version: { const: 4 },
  enable_dhcp: { const: false },
  allocation_pools: arr(obj({ start: str, end: str })),
  dns_nameservers: arr(str),
  host_routes: arr(obj({ destination: str, nexthop: str })),
  description: str,
  tags: arr(str),
  created_at: NOVA_TIME,
  updated_at: NOVA_TIME,
});

const port = obj({
  id: uuid,
  name: str,
  network_id: uuid,
  tenant_id: uuid,
  project_id: uuid,
  mac_address: str,
  fixed_ips: arr(obj({ subnet_id: uuid, ip_address: str })),
  device_id: uuid,
  device_owner: str,
  status: { enum: ['ACTIVE', 'DOWN', 'BUILD', 'ERROR'] },
  admin_state_up: bool,
  port_security_enabled: bool,
  security_groups: arr(uuid),
  allowed_address_pairs: arr(obj({ ip_address: str, mac_address: str })),
  description: str,
  tags: arr(str),
});

/** Each answer by name. */
export const SCHEMAS = {
  identityVersions: obj({ versions: obj({ values: arr(identityVersion) }) }),
  identityVersion: obj({ version: identityVersion }),
  token,
  keystoneProjects: obj({
    projects: arr(keystoneProject),
    links: obj({ self: anyOf(str, nil), previous: nil, next: nil }, ['previous', 'next']),
  }),
  keystoneProject: obj({ project: keystoneProject }),
  keystoneUser: obj({
    user: obj({
      id: uuid,
      name: str,
      domain_id: str,
      enabled: bool,
      password_expires_at: nil,
      options: { type: 'object' },
      links: obj({ self: str }),
    }),
  }),
  keystoneError: obj({ error: obj({ code: int, title: str, message: str }) }),
  applicationCredential: obj({ application_credential: applicationCredential }),
  applicationCredentials: obj({
    application_credentials: arr(applicationCredential),
    links: obj({ self: str, previous: nil, next: nil }),
  }),
  computeVersions: obj({ versions: arr(computeVersion) }),
  computeVersion: obj({ version: computeVersion }),
  flavors: obj({ flavors: arr(flavorSummary) }),
  flavorDetails: obj({ flavors: arr(flavor) }),
  flavor: obj({ flavor }),
  extraSpecs: obj({ extra_specs: { type: 'object', additionalProperties: str } }),
  servers: obj({ servers: arr(obj({ id: uuid, name: str, links: arr(link) })), servers_links: arr(link) }, [
    'servers_links',
  ]),
  serverDetails: obj({ servers: arr(server), servers_links: arr(link) }, ['servers_links']),
  server: obj({ server }),
  serverCreated: obj({
    server: obj({ id: uuid, links: arr(link), 'OS-DCF:diskConfig': str, security_groups: arr(obj({ name: str })) }),
  }),
  consoleOutput: obj({ output: str }),
  keypairs: obj({ keypairs: arr(obj({ keypair: obj({ name: str, public_key: str, fingerprint: str }) })) }),
  keypairCreated: obj({
    keypair: obj({ name: str, public_key: str, fingerprint: str, user_id: uuid, private_key: str }, ['private_key']),
  }),
  keypair: obj({
    keypair: obj({
      name: str,
      public_key: str,
      fingerprint: { type: 'string', pattern: '^([0-9a-f]{2}:){15}[0-9a-f]{2}$' },
      user_id: uuid,
      id: int,
      created_at: str,
      updated_at: nil,
      deleted: { const: false },
      deleted_at: nil,
    }),
  }),
  metadata: obj({ metadata: { type: 'object', additionalProperties: str } }),
  meta: obj({ meta: { type: 'object', additionalProperties: str, minProperties: 1, maxProperties: 1 } }),
  limits: obj({ limits: obj({ rate: arr({ type: 'object' }), absolute }) }),
  quotaSet: obj({ quota_set: quotaSet }),
  novaError: {
    type: 'object',
    minProperties: 1,
    maxProperties: 1,
    additionalProperties: obj({ code: int, message: str }),
    propertyNames: {
      enum: [
        'badRequest',
        'unauthorized',
        'forbidden',
        'itemNotFound',
        'conflictingRequest',
        'overLimit',
        'notAcceptable',
      ],
    },
  },
  imageVersions: obj({ versions: arr(obj({ id: str, status: str, links: arr(link) })) }),
  images: obj({ images: arr(image), first: str, schema: str, next: str }, ['next']),
  image,
  glanceError: obj({ code: int, title: str, message: str }),
  networkVersions: obj({ versions: arr(obj({ id: str, status: str, links: arr(link) })) }),
  networks: obj({ networks: arr(network) }),
  network: obj({ network }),
  subnets: obj({ subnets: arr(subnet) }),
  subnet: obj({ subnet }),
  ports: obj({ ports: arr(port) }),
  port: obj({ port }),
  networkQuota: obj({
    quota: obj(
      Object.fromEntries(
        [
          'network',
          'subnet',
          'subnetpool',
          'port',
          'router',
          'floatingip',
          'rbac_policy',
          'security_group',
          'security_group_rule',
        ].map((k) => [k, int]),
      ),
    ),
  }),
  neutronError: obj({ NeutronError: obj({ type: str, message: str, detail: str }) }),
} satisfies Record<string, Schema>;

export type SchemaName = keyof typeof SCHEMAS;

const ajv = new Ajv({ allErrors: true, strict: false });
const compiled = new Map<SchemaName, ValidateFunction>();

/** The schema's errors for `body` (empty when it conforms), with the path of each. */
export function violations(name: SchemaName, body: unknown): string[] {
  let validate = compiled.get(name);
  if (!validate) {
    validate = ajv.compile(SCHEMAS[name]);
    compiled.set(name, validate);
  }
  if (validate(body)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}
