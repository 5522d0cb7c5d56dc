import type { TokenSubject } from '@berth/data';
import { ROLES, type Role } from '@berth/domain';
import { createHash } from 'node:crypto';
import { keystoneTime } from './os-http';

/** The one domain: Keystone's default. Every Berth user and project is in it. */
export const DEFAULT_DOMAIN = { id: 'default', name: 'Default' } as const;

/** Keystone's identity version, as its v3 document names it. */
const IDENTITY_VERSION = {
  id: 'v3.14',
  status: 'stable',
  updated: '2020-04-07T00:00:00Z',
  'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
};

export const identityVersion = (base: string) => ({
  ...IDENTITY_VERSION,
  links: [{ rel: 'self', href: `${base}/identity/v3/` }],
});

/** A token that never expires (the bootstrap admin's) still shows a time: clients parse it to know when to renew. */
const NEVER = new Date('9999-12-31T23:59:59Z');

const stableId = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32);

/** The services Berth answers as, each at its one public endpoint. */
export function catalog(base: string, region: string) {
  const services: Array<[type: string, name: string, url: string]> = [
    ['identity', 'keystone', `${base}/identity`],
    ['compute', 'nova', `${base}/compute/v2.1`],
    ['image', 'glance', `${base}/image`],
    ['network', 'neutron', `${base}/network`],
  ];
  return services.map(([type, name, url]) => ({
    id: stableId(`service:${type}`),
    type,
    name,
    endpoints: [{ id: stableId(`endpoint:${type}`), interface: 'public', region, region_id: region, url }],
  }));
}

/** The token's role and the ones it implies (an admin is a member and a reader too), as Keystone lists them. */
export function tokenRoles(role: Role): Array<{ id: string; name: string }> {
  return ROLES.slice(0, ROLES.indexOf(role) + 1)
    .reverse()
    .map((name) => ({ id: name, name }));
}

/** Keystone's token document. */
export function tokenDocument(
  subject: TokenSubject,
  method: 'password' | 'token' | 'application_credential',
  base: string,
  region: string,
) {
  return {
    token: {
      methods: [method],
      user: {
        id: subject.userId,
        name: subject.userName,
        domain: DEFAULT_DOMAIN,
        password_expires_at: null,
      },
      audit_ids: [Buffer.from(subject.id.replace(/-/g, ''), 'hex').toString('base64url').slice(0, 22)],
      expires_at: keystoneTime(subject.expiresAt ?? NEVER),
      issued_at: keystoneTime(subject.createdAt),
      project: { id: subject.projectId, name: subject.projectName, domain: DEFAULT_DOMAIN },
      is_domain: false,
      roles: tokenRoles(subject.role),
      catalog: catalog(base, region),
      ...(subject.applicationCredential ? { application_credential: subject.applicationCredential } : {}),
    },
  };
}

/** Keystone's project document. */
export const projectDocument = (p: { id: string; name: string }, base: string) => ({
  id: p.id,
  name: p.name,
  domain_id: DEFAULT_DOMAIN.id,
  description: '',
  enabled: true,
  is_domain: false,
  parent_id: DEFAULT_DOMAIN.id,
  tags: [],
  options: {},
  links: { self: `${base}/identity/v3/projects/${p.id}` },
});
