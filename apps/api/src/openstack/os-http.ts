import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';

type Fastify = ReturnType<ReturnType<NestFastifyApplication['getHttpAdapter']>['getInstance']>;

/**
 * What the OpenStack face shares over HTTP: which service a path belongs to, each service's error body, the headers
 * every answer carries, the public base URL its documents link to, and OpenStack's time formats.
 */
export type OsService = 'identity' | 'compute' | 'image' | 'network';

export const OS_PREFIX: Record<OsService, string> = {
  identity: '/identity',
  compute: '/compute',
  image: '/image',
  network: '/network',
};

/** The OpenStack service a request path is under; null for Berth's own API. */
export function osServiceOf(url: string): OsService | null {
  for (const [service, prefix] of Object.entries(OS_PREFIX) as Array<[OsService, string]>) {
    if (url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`)) return service;
  }
  return null;
}

/** The one compute microversion served: 2.1, the base of v2.1, whose shapes the clients know without negotiating. */
export const COMPUTE_VERSION = '2.1';

/** Nova's fault names, by status. */
const NOVA_FAULTS: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'HTTPMethodNotAllowed',
  406: 'notAcceptable',
  409: 'conflictingRequest',
  413: 'overLimit',
  414: 'badRequest',
  429: 'overLimit',
  503: 'serviceUnavailable',
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Long',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Neutron's error types, by status. */
const NEUTRON_TYPES: Record<number, string> = {
  400: 'BadRequest',
  401: 'NotAuthorized',
  403: 'PolicyNotAuthorized',
  404: 'NotFound',
  409: 'Conflict',
  429: 'OverQuota',
};

/** The error body each service's own clients read (they show the `message`). */
export function osErrorBody(service: OsService, status: number, message: string): Record<string, unknown> {
  const title = TITLES[status] ?? (status >= 500 ? 'Internal Server Error' : 'Bad Request');
  switch (service) {
    case 'compute':
      return { [NOVA_FAULTS[status] ?? (status >= 500 ? 'computeFault' : 'badRequest')]: { code: status, message } };
    case 'identity':
      return { error: { code: status, title, message } };
    case 'image':
      return { code: status, title, message };
    case 'network':
      return { NeutronError: { type: NEUTRON_TYPES[status] ?? 'NeutronError', message, detail: '' } };
  }
}

/**
 * Every answer under an OpenStack prefix carries `x-openstack-request-id` (req-<uuid>, as the services do); compute's
 * also say which microversion answered.
 */
export function installOpenStackHeaders(fastify: Fastify): void {
  // A compute microversion other than 2.1 (or "latest", which is 2.1 here) is refused, as Nova refuses one it lacks.
  fastify.addHook('onRequest', async (request, reply) => {
    if (osServiceOf(request.url) !== 'compute') return;
    const asked = requestedMicroversion(request.headers);
    if (asked === null || asked === COMPUTE_VERSION || asked === 'latest') return;
    const message = `Version ${asked} is not supported by the API. Minimum is ${COMPUTE_VERSION} and maximum is ${COMPUTE_VERSION}.`;
    return reply.code(406).send(osErrorBody('compute', 406, message));
  });
  fastify.addHook('onSend', async (request, reply) => {
    const service = osServiceOf(request.url);
    if (!service) return;
    void reply.header('x-openstack-request-id', `req-${request.id}`);
    if (service === 'compute') {
      void reply.header('openstack-api-version', `compute ${COMPUTE_VERSION}`);
      void reply.header('x-openstack-nova-api-version', COMPUTE_VERSION);
      void reply.header('vary', 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
    }
  });
}

/** The compute microversion a request asks for (OpenStack-API-Version: compute X, or the older Nova header). */
function requestedMicroversion(headers: Record<string, string | string[] | undefined>): string | null {
  const general = headers['openstack-api-version'];
  if (typeof general === 'string') {
    const match = /(?:^|,)\s*compute\s+([^\s,]+)/i.exec(general);
    if (match?.[1]) return match[1].toLowerCase();
  }
  const nova = headers['x-openstack-nova-api-version'];
  return typeof nova === 'string' ? nova.trim().toLowerCase() : null;
}

/** The base URL clients reach this API at: BERTH_PUBLIC_URL, else the scheme and Host the request came with. */
export function publicBase(request: FastifyRequest, configured: string): string {
  if (configured !== '') return configured.replace(/\/+$/, '');
  return `${request.protocol}://${request.headers.host ?? request.hostname}`;
}

/** Keystone's time format: 2026-12-03T14:00:00.000000Z. */
export const keystoneTime = (at: Date) => at.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** Nova's and Neutron's: 2026-12-03T14:00:00Z. */
export const novaTime = (at: Date) => at.toISOString().replace(/\.\d{3}Z$/, 'Z');
