import { newSshKeyPair } from '@berth/enroll';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { routesOf } from '../../../apps/api/src/app';
import { subnetIdOf } from '../../../apps/api/src/openstack/network.controller';
import { osServiceOf } from '../../../apps/api/src/openstack/os-http';
import { TestApi } from '../api-harness';
import { OpenApiConformance } from '../openapi-conformance';

/**
 * The RBAC matrix: every route the router registered, called by eight kinds of caller, each cell
 * against a fresh resource of project A. The expected status comes from this file's own table, not
 * from the code's policy table; a route missing here fails the first test. The same fixtures check that every
 * answer is exactly what docs/openapi.json describes (schema conformance, no property it does not list).
 */

type Caller =
  | 'admin'
  | 'projectAdminA'
  | 'memberA'
  | 'readerA'
  | 'projectAdminB'
  | 'memberB'
  | 'readerB'
  | 'none'
  | 'expired'
  | 'revoked';
const CALLERS: Caller[] = [
  'admin',
  'projectAdminA',
  'memberA',
  'readerA',
  'projectAdminB',
  'memberB',
  'readerB',
  'none',
  'expired',
  'revoked',
];

type Access = 'public' | 'any' | 'member' | 'project-admin' | 'admin';
type Target =
  | 'instance'
  | 'flavor'
  | 'image'
  | 'network'
  | 'operation'
  | 'project'
  | 'token'
  | 'host'
  /** A host of its own, for routes that change what a host takes (drain). */
  | 'spareHost'
  | 'aggregate'
  | 'serverGroup'
  | 'securityGroup'
  | 'securityGroupRule'
  | 'reservation'
  /** A user of its own (the cloud's users are the admin's). */
  | 'user'
  /** A project of its own that holds nothing, for its deletion. */
  | 'emptyProject'
  /** A volume of project A, available on the matrix's host. */
  | 'volume'
  | 'volumeType'
  /** Neutron's view of a fresh network's subnet, and of a fresh instance's port. */
  | 'subnet'
  | 'port';
/** Each rule a matrix cell adds is a new one (the same rule twice is a 409). */
let rulePort = 1000;
/**
 * Who sees the target: everyone, the members of its project (A), the user who owns it (and its project's
 * project-admin), or that user alone (nobody here but the admin).
 */
type Ownership = 'cloud' | 'project' | 'user' | 'self';

interface Who {
  token?: string;
  tokenId?: string;
  role?: 'admin' | 'project-admin' | 'member' | 'reader';
  project?: string;
  projectName?: string;
  user?: string;
  userName?: string;
}

interface RouteCase {
  access: Access;
  ok: number;
  /** Keystone's X-Subject-Token: the caller's own token, or a fresh one of the caller's user. */
  subject?: 'own' | 'fresh';
  /** :name is a key pair of the caller's own user, made for the cell. */
  keypair?: boolean;
  /** Appended to the URL (a required query). */
  query?: string;
  target?: Target;
  ownership?: Ownership;
  /** :user is the caller's own user, and :id (if any) an application credential of its own, made for the cell. */
  ownCredential?: 'user' | 'credential';
  /** The body is given a network without a subnet, made for the cell (Neutron's subnet create). */
  bareNetwork?: boolean;
  body?: (who: Who, bareNetwork?: string) => unknown;
}

const unique = () => `r${randomBytes(4).toString('hex')}`;
/** Ids the OpenStack bodies name (Nova takes references by id): set once the fixtures exist. */
const fixture = { image: '', flavor: '', network: '' };
const LOGIN_PASSWORD = 'matrix password one';
/** An operator's SSH key, for enrollments that never connect here (no scheduler runs in this tier). */
const OPERATOR_KEY = newSshKeyPair().privateKey;

const CASES: Record<string, RouteCase> = {
  'GET /docs': { access: 'public', ok: 200 },
  'GET /healthz': { access: 'public', ok: 200 },
  'GET /readyz': { access: 'public', ok: 200 },
  'GET /metrics': { access: 'admin', ok: 200 },
  'POST /v1/flavors': { access: 'admin', ok: 201, body: () => ({ name: unique(), vcpus: 1, ramMb: 64, diskGb: 1 }) },
  'GET /v1/flavors': { access: 'any', ok: 200 },
  'GET /v1/flavors/:id': { access: 'any', ok: 200, target: 'flavor', ownership: 'cloud' },
  'DELETE /v1/flavors/:id': { access: 'admin', ok: 204, target: 'flavor', ownership: 'cloud' },
  'POST /v1/images': {
    access: 'member',
    ok: 201,
    body: () => ({ name: unique(), kind: 'container', ref: '127.0.0.1:5000/busybox' }),
  },
  'GET /v1/images': { access: 'any', ok: 200 },
  'GET /v1/images/:id': { access: 'any', ok: 200, target: 'image', ownership: 'project' },
  'DELETE /v1/images/:id': { access: 'member', ok: 204, target: 'image', ownership: 'project' },
  'POST /v1/networks': {
    access: 'admin',
    ok: 201,
    body: () => ({ name: unique(), vlan: nextVlan(), cidr: '10.66.0.0/24', gateway: '10.66.0.1' }),
  },
  'GET /v1/networks': { access: 'any', ok: 200 },
  'GET /v1/networks/:id': { access: 'any', ok: 200, target: 'network', ownership: 'cloud' },
  'DELETE /v1/networks/:id': { access: 'admin', ok: 204, target: 'network', ownership: 'cloud' },
  'POST /v1/instances': {
    access: 'member',
    ok: 202,
    body: () => ({ name: 'web', kind: 'container', flavor: 'm1.tiny', image: 'busybox', network: 'lan' }),
  },
  'GET /v1/instances': { access: 'any', ok: 200 },
  'GET /v1/instances/:id': { access: 'any', ok: 200, target: 'instance', ownership: 'project' },
  'POST /v1/instances/:id/actions': {
    access: 'member',
    ok: 202,
    target: 'instance',
    ownership: 'project',
    body: () => ({ action: 'stop' }),
  },
  'DELETE /v1/instances/:id': { access: 'member', ok: 202, target: 'instance', ownership: 'project' },
  // No host answers in this tier: an authorised caller gets as far as asking it (503).
  'GET /v1/instances/:id/console': { access: 'any', ok: 503, target: 'instance', ownership: 'project' },
  'GET /v1/instances/:id/stats': { access: 'any', ok: 503, target: 'instance', ownership: 'project' },
  // A WebSocket: a plain GET that passes every check is told to upgrade (terminal.medium.ts opens one).
  'GET /v1/instances/:id/terminal': { access: 'member', ok: 426, target: 'instance', ownership: 'project' },
  'GET /v1/instances/:id/migrations': { access: 'admin', ok: 200, target: 'instance', ownership: 'project' },
  'GET /v1/operations': { access: 'any', ok: 200 },
  'GET /v1/events': { access: 'any', ok: 200 },
  'GET /v1/operations/:id': { access: 'any', ok: 200, target: 'operation', ownership: 'project' },
  'GET /v1/hosts': { access: 'admin', ok: 200 },
  'POST /v1/projects': { access: 'admin', ok: 201, body: () => ({ name: unique() }) },
  'GET /v1/projects': { access: 'any', ok: 200 },
  'GET /v1/projects/:id': { access: 'any', ok: 200, target: 'project', ownership: 'project' },
  'DELETE /v1/projects/:id': { access: 'admin', ok: 204, target: 'emptyProject', ownership: 'cloud' },
  'DELETE /v1/users/:id': { access: 'admin', ok: 204, target: 'user', ownership: 'cloud' },
  'GET /v1/projects/:id/quotas': { access: 'any', ok: 200, target: 'project', ownership: 'project' },
  'PUT /v1/projects/:id/quotas': {
    access: 'admin',
    ok: 200,
    target: 'project',
    ownership: 'project',
    body: () => ({ instances: -1 }),
  },
  'POST /v1/users': { access: 'admin', ok: 201, body: () => ({ name: unique(), password: LOGIN_PASSWORD }) },
  'PUT /v1/users/:id/password': {
    access: 'any',
    ok: 204,
    target: 'user',
    ownership: 'self',
    body: () => ({ password: 'a new long password' }),
  },
  'POST /v1/auth/tokens': {
    access: 'public',
    ok: 201,
    body: () => ({ user: 'login-user', password: LOGIN_PASSWORD, project: 'project-a' }),
  },
  'GET /v1/projects/:id/members': { access: 'project-admin', ok: 200, target: 'project', ownership: 'project' },
  'PUT /v1/projects/:id/members/:user': {
    access: 'project-admin',
    ok: 200,
    target: 'project',
    ownership: 'project',
    body: () => ({ role: 'member' }),
  },
  'DELETE /v1/projects/:id/members/:user': {
    access: 'project-admin',
    ok: 204,
    target: 'project',
    ownership: 'project',
  },
  'GET /v1/users': { access: 'admin', ok: 200 },
  // The OpenStack face: the same policy and tenancy as /v1 (its answers' shapes are openstack.medium.ts's).
  'GET /identity': { access: 'public', ok: 300 },
  'GET /identity/v3': { access: 'public', ok: 200 },
  'POST /identity/v3/auth/tokens': {
    access: 'public',
    ok: 201,
    body: () => ({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'login-user', domain: { name: 'Default' }, password: LOGIN_PASSWORD } },
        },
        scope: { project: { name: 'project-a', domain: { name: 'Default' } } },
      },
    }),
  },
  'GET /identity/v3/auth/tokens': { access: 'any', ok: 200, subject: 'own' },
  'DELETE /identity/v3/auth/tokens': { access: 'member', ok: 204, subject: 'fresh' },
  'GET /identity/v3/auth/catalog': { access: 'any', ok: 200 },
  'GET /identity/v3/auth/projects': { access: 'any', ok: 200 },
  'GET /identity/v3/projects': { access: 'any', ok: 200 },
  'GET /identity/v3/projects/:id': { access: 'any', ok: 200, target: 'project', ownership: 'project' },
  'GET /identity/v3/users/:id': { access: 'any', ok: 200, target: 'user', ownership: 'self' },
  'GET /compute': { access: 'public', ok: 200 },
  'GET /compute/v2.1': { access: 'public', ok: 200 },
  'GET /compute/v2.1/flavors': { access: 'any', ok: 200 },
  'GET /compute/v2.1/flavors/detail': { access: 'any', ok: 200 },
  'GET /compute/v2.1/flavors/:id': { access: 'any', ok: 200, target: 'flavor', ownership: 'cloud' },
  'GET /compute/v2.1/flavors/:id/os-extra_specs': { access: 'any', ok: 200, target: 'flavor', ownership: 'cloud' },
  'GET /compute/v2.1/limits': { access: 'any', ok: 200 },
  'GET /compute/v2.1/os-quota-sets/:project': { access: 'any', ok: 200, target: 'project', ownership: 'project' },
  'GET /compute/v2.1/servers': { access: 'any', ok: 200 },
  'GET /compute/v2.1/servers/detail': { access: 'any', ok: 200 },
  'GET /compute/v2.1/servers/:id': { access: 'any', ok: 200, target: 'instance', ownership: 'project' },
  'POST /compute/v2.1/servers': {
    access: 'member',
    ok: 202,
    body: () => ({
      server: {
        name: 'web',
        imageRef: fixture.image,
        flavorRef: fixture.flavor,
        networks: [{ uuid: fixture.network }],
      },
    }),
  },
  'GET /compute/v2.1/servers/:id/metadata': { access: 'any', ok: 200, target: 'instance', ownership: 'project' },
  'POST /compute/v2.1/servers/:id/metadata': {
    access: 'member',
    ok: 200,
    target: 'instance',
    ownership: 'project',
    body: () => ({ metadata: { tier: 'front' } }),
  },
  'PUT /compute/v2.1/servers/:id/metadata': {
    access: 'member',
    ok: 200,
    target: 'instance',
    ownership: 'project',
    body: () => ({ metadata: { role: 'web' } }),
  },
  'GET /compute/v2.1/servers/:id/metadata/:key': { access: 'any', ok: 200, target: 'instance', ownership: 'project' },
  'PUT /compute/v2.1/servers/:id/metadata/:key': {
    access: 'member',
    ok: 200,
    target: 'instance',
    ownership: 'project',
    body: () => ({ meta: { role: 'db' } }),
  },
  'DELETE /compute/v2.1/servers/:id/metadata/:key': {
    access: 'member',
    ok: 204,
    target: 'instance',
    ownership: 'project',
  },
  'GET /compute/v2.1/os-keypairs': { access: 'any', ok: 200 },
  'POST /compute/v2.1/os-keypairs': { access: 'member', ok: 200, body: () => ({ keypair: { name: unique() } }) },
  // Each caller's own key pair named "mine" (made for the cell); another user's are never seen.
  'GET /compute/v2.1/os-keypairs/:name': { access: 'any', ok: 200, keypair: true },
  'DELETE /compute/v2.1/os-keypairs/:name': { access: 'member', ok: 202, keypair: true },
  'DELETE /compute/v2.1/servers/:id': { access: 'member', ok: 204, target: 'instance', ownership: 'project' },
  'POST /compute/v2.1/servers/:id/action': {
    access: 'member',
    ok: 202,
    target: 'instance',
    ownership: 'project',
    body: () => ({ 'os-stop': null }),
  },
  'GET /image': { access: 'public', ok: 300 },
  'GET /image/v2/images': { access: 'any', ok: 200 },
  'GET /image/v2/images/:id': { access: 'any', ok: 200, target: 'image', ownership: 'project' },
  'POST /image/v2/images': {
    access: 'member',
    ok: 201,
    body: () => ({ name: unique(), container_format: 'docker', berth_ref: '127.0.0.1:5000/busybox' }),
  },
  'PUT /image/v2/images/:id/file': { access: 'member', ok: 204, target: 'image', ownership: 'project' },
  'DELETE /image/v2/images/:id': { access: 'member', ok: 204, target: 'image', ownership: 'project' },
  'GET /network': { access: 'public', ok: 200 },
  'GET /network/v2.0/networks': { access: 'any', ok: 200 },
  'GET /network/v2.0/networks/:id': { access: 'any', ok: 200, target: 'network', ownership: 'cloud' },
  'GET /network/v2.0/subnets': { access: 'any', ok: 200 },
  'GET /network/v2.0/subnets/:id': { access: 'any', ok: 200, target: 'subnet', ownership: 'cloud' },
  'POST /identity/v3/users/:user/application_credentials': {
    access: 'member',
    ok: 201,
    ownCredential: 'user',
    body: () => ({ application_credential: { name: unique() } }),
  },
  'GET /identity/v3/users/:user/application_credentials': { access: 'any', ok: 200, ownCredential: 'user' },
  'GET /identity/v3/users/:user/application_credentials/:id': { access: 'any', ok: 200, ownCredential: 'credential' },
  'DELETE /identity/v3/users/:user/application_credentials/:id': {
    access: 'any',
    ok: 204,
    ownCredential: 'credential',
  },
  'POST /network/v2.0/networks': {
    access: 'admin',
    ok: 201,
    body: () => ({ network: { name: unique(), 'provider:segmentation_id': nextVlan() } }),
  },
  'DELETE /network/v2.0/networks/:id': { access: 'admin', ok: 204, target: 'network', ownership: 'cloud' },
  'POST /network/v2.0/subnets': {
    access: 'admin',
    ok: 201,
    bareNetwork: true,
    body: (_who, network) => ({ subnet: { network_id: network, cidr: '10.68.0.0/24' } }),
  },
  'DELETE /network/v2.0/subnets/:id': { access: 'admin', ok: 204, target: 'subnet', ownership: 'cloud' },
  'GET /network/v2.0/ports': { access: 'any', ok: 200 },
  'GET /network/v2.0/ports/:id': { access: 'any', ok: 200, target: 'port', ownership: 'project' },
  'GET /network/v2.0/quotas/:project': { access: 'any', ok: 200, target: 'project', ownership: 'project' },
  'POST /v1/tokens': {
    access: 'member',
    ok: 201,
    body: (who) => ({ user: who.userName ?? 'nobody', project: who.projectName ?? 'nowhere', role: 'reader' }),
  },
  'GET /v1/tokens': { access: 'any', ok: 200 },
  'GET /v1/auth/projects': { access: 'any', ok: 200 },
  'GET /v1/overview': { access: 'admin', ok: 200 },
  // A project nobody here holds a role in: every valid token is told it has no such project (login.medium.ts switches).
  'POST /v1/auth/rescope': { access: 'any', ok: 404, body: () => ({ project: 'project-of-nobody' }) },
  'DELETE /v1/tokens/:id': { access: 'any', ok: 204, target: 'token', ownership: 'user' },
  'GET /v1/usage/audit': { access: 'admin', ok: 200 },
  'GET /v1/hosts/:id': { access: 'admin', ok: 200, target: 'host', ownership: 'cloud' },
  'PATCH /v1/hosts/:id': {
    access: 'admin',
    ok: 200,
    target: 'host',
    ownership: 'cloud',
    body: () => ({ zone: 'zone-a' }),
  },
  'POST /v1/hosts': {
    access: 'admin',
    ok: 202,
    body: () => ({ name: unique(), address: '192.0.2.9', privateKey: OPERATOR_KEY }),
  },
  'POST /v1/hosts/:id/drain': { access: 'admin', ok: 202, target: 'spareHost', ownership: 'cloud' },
  // The host heartbeats, so an admin is refused: evacuation is for a host that is down.
  'POST /v1/hosts/:id/evacuate': { access: 'admin', ok: 409, target: 'spareHost', ownership: 'cloud' },
  'POST /v1/aggregates': { access: 'admin', ok: 201, body: () => ({ name: unique(), metadata: { disk: 'ssd' } }) },
  'GET /v1/aggregates': { access: 'admin', ok: 200 },
  'GET /v1/aggregates/:id': { access: 'admin', ok: 200, target: 'aggregate', ownership: 'cloud' },
  'PUT /v1/aggregates/:id': {
    access: 'admin',
    ok: 200,
    target: 'aggregate',
    ownership: 'cloud',
    body: () => ({ metadata: { disk: 'nvme' } }),
  },
  'DELETE /v1/aggregates/:id': { access: 'admin', ok: 204, target: 'aggregate', ownership: 'cloud' },
  'POST /v1/volumes': { access: 'member', ok: 202, body: () => ({ name: unique(), sizeGb: 1 }) },
  'GET /v1/volumes': { access: 'any', ok: 200 },
  'GET /v1/volumes/:id': { access: 'any', ok: 200, target: 'volume', ownership: 'project' },
  'POST /v1/volumes/:id/actions': {
    access: 'member',
    ok: 202,
    target: 'volume',
    ownership: 'project',
    body: () => ({ action: 'extend', sizeGb: 2 }),
  },
  'DELETE /v1/volumes/:id': { access: 'member', ok: 202, target: 'volume', ownership: 'project' },
  'POST /v1/volume-types': { access: 'admin', ok: 201, body: () => ({ name: unique(), readIops: 500 }) },
  'GET /v1/volume-types': { access: 'any', ok: 200 },
  'GET /v1/volume-types/:id': { access: 'any', ok: 200, target: 'volumeType', ownership: 'cloud' },
  'DELETE /v1/volume-types/:id': { access: 'admin', ok: 204, target: 'volumeType', ownership: 'cloud' },
  'POST /v1/server-groups': { access: 'member', ok: 201, body: () => ({ name: unique(), policy: 'anti-affinity' }) },
  'GET /v1/server-groups': { access: 'any', ok: 200 },
  'GET /v1/server-groups/:id': { access: 'any', ok: 200, target: 'serverGroup', ownership: 'project' },
  'DELETE /v1/server-groups/:id': { access: 'member', ok: 204, target: 'serverGroup', ownership: 'project' },
  'POST /v1/security-groups': { access: 'member', ok: 201, body: () => ({ name: unique() }) },
  'GET /v1/security-groups': { access: 'any', ok: 200 },
  'GET /v1/security-groups/:id': { access: 'any', ok: 200, target: 'securityGroup', ownership: 'project' },
  'DELETE /v1/security-groups/:id': { access: 'member', ok: 204, target: 'securityGroup', ownership: 'project' },
  'POST /v1/security-groups/:id/rules': {
    access: 'member',
    ok: 201,
    target: 'securityGroup',
    ownership: 'project',
    body: () => ({ direction: 'ingress', protocol: 'tcp', portMin: (rulePort += 1) }),
  },
  'DELETE /v1/security-group-rules/:id': {
    access: 'member',
    ok: 204,
    target: 'securityGroupRule',
    ownership: 'project',
  },
  'POST /v1/scheduler/dry-run': {
    access: 'admin',
    ok: 200,
    body: () => ({ name: 'web', kind: 'container', flavor: 'm1.tiny', image: 'busybox', network: 'lan' }),
  },
  'GET /v1/capacity': { access: 'admin', ok: 200, query: '?flavor=m1.tiny' },
  'POST /v1/reservations': {
    access: 'admin',
    ok: 201,
    body: () => ({ flavor: 'm1.tiny', count: 1, endsAt: new Date(Date.now() + 3_600_000).toISOString() }),
  },
  'GET /v1/reservations': { access: 'any', ok: 200 },
  'GET /v1/reservations/:id': { access: 'any', ok: 200, target: 'reservation', ownership: 'project' },
  'DELETE /v1/reservations/:id': { access: 'admin', ok: 204, target: 'reservation', ownership: 'project' },
  'POST /v1/images/:id/prewarm': {
    access: 'admin',
    ok: 202,
    target: 'image',
    ownership: 'project',
    body: () => ({ hosts: ['rbac-host'] }),
  },
  'POST /v1/usage/audit/repair': { access: 'admin', ok: 200 },
};

let vlan = 1000;
const nextVlan = () => (vlan += 1);

/** The status a caller must get, from the rules of the issue, in the order they apply. */
function expected(c: RouteCase, caller: Caller, who: Who): number {
  if (c.access === 'public') return c.ok;
  if (caller === 'none' || caller === 'expired' || caller === 'revoked') return 401;
  if (c.access === 'admin' && who.role !== 'admin') return 403;
  if (c.access === 'project-admin' && who.role !== 'admin' && who.role !== 'project-admin') return 403;
  if (c.access === 'member' && who.role === 'reader') return 403;
  if (who.role !== 'admin') {
    if (c.ownership === 'project' && caller.endsWith('B')) return 404;
    if (c.ownership === 'user' && caller !== 'memberA' && caller !== 'projectAdminA') return 404;
    if (c.ownership === 'self') return 404;
  }
  return c.ok;
}

describe('RBAC matrix over every route (real PostgreSQL)', () => {
  let api: TestApi;
  const who: Record<Caller, Who> = {} as Record<Caller, Who>;
  let projectA: { id: string; name: string };
  let hostId: string;

  const admin = <T = any>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
    api.call<T>(method, url, body);

  async function mint(
    user: { id: string; name: string },
    project: { id: string; name: string },
    role: 'project-admin' | 'member' | 'reader',
  ): Promise<Who> {
    const res = await admin('POST', '/v1/tokens', { user: user.id, project: project.id, role });
    expect(res.status).toBe(201);
    return {
      token: res.body.token,
      tokenId: res.body.id,
      role,
      project: project.id,
      projectName: project.name,
      user: user.id,
      userName: user.name,
    };
  }

  beforeAll(async () => {
    api = await TestApi.start();
    projectA = (await admin('POST', '/v1/projects', { name: 'project-a' })).body;
    const projectB = (await admin('POST', '/v1/projects', { name: 'project-b' })).body;
    for (const p of [projectA, projectB])
      await admin('PUT', `/v1/projects/${p.id}/quotas`, {
        instances: -1,
        vcpus: -1,
        ramMb: -1,
        diskGb: -1,
        ips: -1,
        volumes: -1,
        volumeGb: -1,
      });
    // Every cell makes a group of its own: more than a project's default quota of them.
    await api.sql('UPDATE projects SET quota_security_groups = -1, quota_security_group_rules = -1');
    const users = await Promise.all(
      ['ma', 'ra', 'mb', 'rb', 'pa', 'pb'].map(async (name) => (await admin('POST', '/v1/users', { name })).body),
    );
    const [ma, ra, mb, rb, pa, pb] = users as Array<{ id: string; name: string }>;
    await admin('POST', '/v1/users', { name: 'login-user', password: LOGIN_PASSWORD });
    expect((await admin('PUT', `/v1/projects/${projectA.id}/members/login-user`, { role: 'member' })).status).toBe(200);
    const [adminProject] =
      (await api.sql<{ id: string; name: string }>(`SELECT id, name FROM projects WHERE name = 'admin'`)) ?? [];
    const [adminUser] = await api.sql<{ id: string; name: string }>(`SELECT id, name FROM users WHERE name = 'admin'`);
    who.admin = {
      token: api.adminToken,
      role: 'admin',
      project: adminProject?.id,
      projectName: adminProject?.name,
      user: adminUser?.id,
      userName: adminUser?.name,
    };
    who.projectAdminA = await mint(pa!, projectA, 'project-admin');
    who.projectAdminB = await mint(pb!, projectB, 'project-admin');
    who.memberA = await mint(ma!, projectA, 'member');
    who.readerA = await mint(ra!, projectA, 'reader');
    who.memberB = await mint(mb!, projectB, 'member');
    who.readerB = await mint(rb!, projectB, 'reader');
    who.none = {};
    const expired = await mint(ma!, projectA, 'member');
    await api.sql(`UPDATE tokens SET expires_at = now() - interval '1 minute' WHERE id = $1`, [expired.tokenId]);
    who.expired = { token: expired.token };
    const revoked = await mint(ma!, projectA, 'member');
    expect((await admin('DELETE', `/v1/tokens/${revoked.tokenId}`)).status).toBe(204);
    who.revoked = { token: revoked.token };

    fixture.flavor = (await admin('POST', '/v1/flavors', { name: 'm1.tiny', vcpus: 1, ramMb: 64, diskGb: 1 })).body.id;
    fixture.image = (await admin('POST', '/v1/images', { name: 'busybox', kind: 'container', ref: 'busybox' })).body.id;
    fixture.network = (
      await admin('POST', '/v1/networks', { name: 'lan', vlan: 100, cidr: '10.65.0.0/22', gateway: '10.65.0.1' })
    ).body.id;
    [{ id: hostId }] = (await api.sql<{ id: string }>(
      `INSERT INTO hosts (name, address, drivers, vcpus, ram_mb, disk_gb, cpu_ratio, ram_ratio, disk_ratio, last_heartbeat_at)
       VALUES ('rbac-host', '192.0.2.1', '{container}', 64, 65536, 1000, 1, 1, 1, now()) RETURNING id`,
    )) as [{ id: string }];
  });
  afterAll(() => api?.stop());

  /** Keystone's subject token for a cell: the caller's own, or a fresh one of its user (a valid one for nobody). */
  async function subjectToken(kind: 'own' | 'fresh', identity: Who): Promise<string> {
    if (!identity.user || !identity.project || !identity.role) return identity.token ?? 'x'.repeat(43);
    if (kind === 'own') return identity.token ?? '';
    const role = identity.role === 'admin' ? 'admin' : 'reader';
    const res = await admin('POST', '/v1/tokens', { user: identity.user, project: identity.project, role });
    expect(res.status).toBe(201);
    return res.body.token;
  }

  /** A key pair of the caller's user, made for one cell (a caller with no user gets a name nobody has). */
  async function ownKeypair(identity: Who): Promise<string> {
    const name = unique();
    if (!identity.user || !identity.project) return name;
    const [row] = await api.sql<{ id: string }>(
      `INSERT INTO keypairs (user_id, name, public_key, fingerprint) VALUES ($1, $2, 'ssh-ed25519 AAAA', 'f') RETURNING id`,
      [identity.user, name],
    );
    expect(row).toBeDefined();
    return name;
  }

  /** A user of its own, a reader of project A, for one cell of the members' routes. */
  async function freshMember(): Promise<string> {
    const name = unique();
    await admin('POST', '/v1/users', { name });
    expect((await admin('PUT', `/v1/projects/${projectA.id}/members/${name}`, { role: 'reader' })).status).toBe(200);
    return name;
  }

  /** The URL with the caller's own user, and an application credential of its own where the route names one. */
  async function ownCredentialUrl(url: string, own: 'user' | 'credential', identity: Who): Promise<string> {
    const user = identity.user ?? '00000000-0000-4000-8000-000000000000';
    if (own === 'user' || !identity.user || !identity.project) return url.replace(':user', user).replace(':id', user);
    const [made] = await api.sql<{ id: string }>(
      `INSERT INTO application_credentials (user_id, project_id, name, secret_hash, role)
       VALUES ($1, $2, $3, 'not a hash', 'reader') RETURNING id`,
      [identity.user, identity.project, unique()],
    );
    return url.replace(':user', user).replace(':id', made?.id ?? '');
  }

  /** A network without its subnet, made through Neutron. */
  async function bareNetwork(): Promise<string> {
    const body = { network: { name: unique(), 'provider:segmentation_id': nextVlan() } };
    const res = await admin('POST', '/network/v2.0/networks', body);
    expect(res.status).toBe(201);
    return res.body.network.id;
  }

  /** A fresh resource of project A (or cloud-wide) for one cell. */
  async function fresh(target: Target): Promise<string> {
    switch (target) {
      case 'flavor':
        return (await admin('POST', '/v1/flavors', { name: unique(), vcpus: 1, ramMb: 64, diskGb: 1 })).body.id;
      case 'image':
        return (
          await admin('POST', '/v1/images', {
            name: unique(),
            kind: 'container',
            ref: 'busybox',
            visibility: 'private',
            project: projectA.id,
          })
        ).body.id;
      case 'network':
        return (
          await admin('POST', '/v1/networks', {
            name: unique(),
            vlan: nextVlan(),
            cidr: '10.67.0.0/24',
            gateway: '10.67.0.1',
          })
        ).body.id;
      case 'project':
        return projectA.id;
      case 'user':
        return (await admin('POST', '/v1/users', { name: unique() })).body.id;
      case 'emptyProject':
        return (await admin('POST', '/v1/projects', { name: unique() })).body.id;
      case 'subnet':
        return subnetIdOf(await fresh('network'));
      case 'port': {
        const [row] = await api.sql<{ id: string }>('SELECT id FROM ports WHERE instance_id = $1', [
          await fresh('instance'),
        ]);
        return row?.id ?? '';
      }
      case 'token':
        return (await admin('POST', '/v1/tokens', { user: who.memberA.user, project: projectA.id, role: 'reader' }))
          .body.id;
      case 'host':
        return hostId;
      case 'spareHost': {
        const [spare] = await api.sql<{ id: string }>(
          `INSERT INTO hosts (name, address, drivers, vcpus, ram_mb, disk_gb, cpu_ratio, ram_ratio, disk_ratio, last_heartbeat_at)
           VALUES ($1, '192.0.2.2', '{container}', 8, 8192, 100, 1, 1, 1, now()) RETURNING id`,
          [unique()],
        );
        return spare?.id ?? '';
      }
      case 'aggregate':
        return (await admin('POST', '/v1/aggregates', { name: unique() })).body.id;
      case 'volumeType':
        return (await admin('POST', '/v1/volume-types', { name: unique() })).body.id;
      case 'volume': {
        // As its host made it: available there, its disk claimed (no scheduler or agent runs in this tier).
        const res = await admin('POST', '/v1/volumes', { name: unique(), sizeGb: 1, project: projectA.id });
        expect(res.status).toBe(202);
        await api.sql(`UPDATE hosts SET last_heartbeat_at = now(), volume_backends = '{file}' WHERE id = $1`, [hostId]);
        await api.sql(`UPDATE volumes SET status = 'available', host_id = $2 WHERE id = $1`, [res.body.id, hostId]);
        await api.sql(
          `INSERT INTO allocations (volume_id, host_id, vcpus, pcpus, ram_mb, disk_gb, pids, pinned_cpus)
           VALUES ($1, $2, 0, 0, 0, 1, 0, '{}')`,
          [res.body.id, hostId],
        );
        await api.sql('UPDATE hosts SET used_disk_gb = used_disk_gb + 1 WHERE id = $1', [hostId]);
        return res.body.id;
      }
      case 'securityGroup':
        return (await admin('POST', '/v1/security-groups', { name: unique(), project: projectA.id })).body.id;
      case 'securityGroupRule': {
        const group = await admin('POST', '/v1/security-groups', { name: unique(), project: projectA.id });
        return group.body.rules[0].id;
      }
      case 'serverGroup':
        return (await admin('POST', '/v1/server-groups', { name: unique(), policy: 'affinity', project: projectA.id }))
          .body.id;
      case 'reservation': {
        const res = await admin('POST', '/v1/reservations', {
          flavor: 'm1.tiny',
          count: 1,
          project: projectA.id,
          endsAt: new Date(Date.now() + 3_600_000).toISOString(),
        });
        expect(res.status).toBe(201);
        return res.body.id;
      }
      case 'instance':
      case 'operation': {
        const res = await admin('POST', '/v1/instances', {
          name: 'target',
          kind: 'container',
          flavor: 'm1.tiny',
          image: 'busybox',
          network: 'lan',
          project: projectA.id,
          // The key the metadata routes' :key names.
          metadata: { role: 'web' },
        });
        expect(res.status).toBe(202);
        await api.sql(
          `UPDATE instances SET status = 'ACTIVE', task_state = NULL, power_state = 'RUNNING', host_id = $2 WHERE id = $1`,
          [res.body.instance.id, hostId],
        );
        return target === 'instance' ? res.body.instance.id : res.body.operationId;
      }
    }
  }

  it('covers exactly the routes the router has', () => {
    const routes = routesOf(api.app).map((r) => `${r.method} ${r.url}`);
    expect([...routes].sort()).toEqual(Object.keys(CASES).sort());
  });

  describe.each(Object.entries(CASES))('%s', (route, c) => {
    it.each(CALLERS)('answers the exact status to %s', async (caller) => {
      const [method, template] = route.split(' ') as ['GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', string];
      let url = (c.target ? template.replace(/:id|:project/, await fresh(c.target)) : template) + (c.query ?? '');
      const identity = who[caller];
      if (c.ownCredential) url = await ownCredentialUrl(url, c.ownCredential, identity);
      if (url.includes(':user')) url = url.replace(':user', await freshMember());
      url = url.replace(':key', 'role');
      if (c.keypair) url = url.replace(':name', await ownKeypair(identity));
      const headers: Record<string, string> = identity.token ? { authorization: `Bearer ${identity.token}` } : {};
      if (c.subject) headers['x-subject-token'] = await subjectToken(c.subject, identity);
      const bare = c.bareNetwork ? await bareNetwork() : '';
      const res = await api.call(method, url, c.body?.(identity, bare), headers);
      expect({ status: res.status, body: res.status >= 400 ? res.body : 'ok' }).toMatchObject({
        status: expected(c, caller, identity),
      });
    });
  });

  describe('ids of the wrong shape get a clean 400 on every route that takes one, never a 500', () => {
    const bad = [
      'not-a-uuid',
      '1',
      '..%2F..%2Fetc%2Fpasswd',
      `${'f'.repeat(300)}`,
      '00000000-0000-4000-8000-00000000000g',
      '%00',
    ];
    // OpenStack's routes answer 404 for any id not Berth's (clients look names up as ids): openstack.medium.ts.
    const own = Object.entries(CASES).filter(([route]) => route.includes(':id') && !osServiceOf(route.split(' ')[1]!));
    it.each(own)('%s', async (route, c) => {
      const [method, template] = route.split(' ') as ['GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', string];
      for (const id of bad) {
        const res = await admin(method, template.replace(':id', id), c.body?.(who.admin));
        expect({ id, status: res.status, field: res.body?.error?.details?.[0]?.field }).toEqual({
          id,
          status: 400,
          field: 'id',
        });
      }
    });
  });

  describe('answers exactly what docs/openapi.json describes, with no property it does not list', () => {
    const spec = new OpenApiConformance();

    /** A move with every internal field set (pending step, parent, claims): none of them is the API's. */
    async function recordMigration(instanceId: string): Promise<void> {
      await api.sql(
        `INSERT INTO instance_migrations (instance_id, operation_id, source_host_id, target_host_id, status, was_running,
                                          target_pinned_cpus, parent_operation_id, auto_confirm, resize, pending_command,
                                          pending_on, pending_operation_id)
         SELECT i.id, o.id, $2, $2, 'reverted', true, '{1}', o.id, true, '{"to": {}, "previous": {}}', 'migration.drop',
                'target', o.id
           FROM instances i JOIN operations o ON o.target_id = i.id WHERE i.id = $1 LIMIT 1`,
        [instanceId, hostId],
      );
    }

    // The OpenStack face is not in docs/openapi.json: its shapes are checked against the upstream references there.
    const described = Object.entries(CASES).filter(([route]) => !osServiceOf(route.split(' ')[1]!));
    it.each(described)('%s', async (route, c) => {
      const [method, template] = route.split(' ') as ['GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', string];
      const id = c.target ? await fresh(c.target) : null;
      if (route === 'GET /v1/instances/:id/migrations' && id) await recordMigration(id);
      let url = (id ? template.replace(':id', id) : template) + (c.query ?? '');
      if (url.includes(':user')) url = url.replace(':user', await freshMember());
      url = url.replace(':key', 'role');
      if (c.keypair) url = url.replace(':name', await ownKeypair(who.admin));
      const res = await admin(method, url, c.body?.(who.admin));
      expect(res.status).toBe(c.ok);
      if (res.status === 204 || res.status >= 300) {
        // No body to check: a 204, or a route whose success needs a host agent (not in this tier).
        if (res.status === 204) expect(res.body).toBeUndefined();
        else expect(res.body?.error?.code).toEqual(expect.any(String));
        return;
      }
      if (route === 'GET /docs') {
        // The spec itself: it is what docs/openapi.json holds.
        expect(res.body).toEqual(JSON.parse(readFileSync(join(__dirname, '../../../docs/openapi.json'), 'utf8')));
        return;
      }
      const json = /application\/json/.test(String(res.headers['content-type']));
      if (!json) {
        // A stream, text, metrics or the docs page: the spec must not promise JSON for it either.
        expect(spec.documents(method, template) ? spec.schemaOf(method, template, res.status) : null).toBeNull();
        return;
      }
      expect(spec.errors(method, template, res.status, res.body)).toEqual([]);
      if (route === 'GET /v1/instances/:id/migrations') expect(res.body.items).toHaveLength(1);
    });
  });

  describe('lists never show another project', () => {
    it.each(['projectAdminB', 'memberB', 'readerB', 'memberA', 'readerA'] as const)('as %s', async (caller) => {
      const identity = who[caller];
      const headers = { authorization: `Bearer ${identity.token}` };
      const instances = (await api.call('GET', '/v1/instances?limit=500', undefined, headers)).body.items as any[];
      const operations = (await api.call('GET', '/v1/operations?limit=500', undefined, headers)).body.items as any[];
      const images = (await api.call('GET', '/v1/images', undefined, headers)).body.items as any[];
      const tokens = (await api.call('GET', '/v1/tokens', undefined, headers)).body.items as any[];
      const projects = (await api.call('GET', '/v1/projects', undefined, headers)).body.items as any[];
      expect(projects.map((p) => p.id)).toEqual([identity.project]);
      expect(instances.filter((i) => i.projectId !== identity.project)).toEqual([]);
      expect(operations.filter((o) => o.projectId !== identity.project)).toEqual([]);
      expect(images.filter((i) => i.projectId !== null && i.projectId !== identity.project)).toEqual([]);
      // A project-admin sees its project's tokens too; nobody sees another project's but its own user's.
      expect(tokens.filter((t) => t.userId !== identity.user && t.projectId !== identity.project)).toEqual([]);
      if (identity.role !== 'project-admin') expect(tokens.filter((t) => t.userId !== identity.user)).toEqual([]);
      if (caller.endsWith('A')) {
        expect(instances.length).toBeGreaterThan(0);
        expect(operations.length).toBeGreaterThan(0);
      }
      // Even naming project A explicitly shows a project-B caller nothing of A.
      const asked = await api.call('GET', `/v1/instances?project=${projectA.id}`, undefined, headers);
      expect(asked.body.items.filter((i: any) => i.projectId !== identity.project)).toEqual([]);
    });

    it('shows the admin every project', async () => {
      const projects = new Set(
        ((await admin('GET', '/v1/instances?limit=500')).body.items as any[]).map((i) => i.projectId),
      );
      expect(projects.has(projectA.id)).toBe(true);
      expect(projects.has(who.memberB.project)).toBe(true);
    });
  });
});
