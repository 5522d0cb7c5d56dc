import { withLogContext, type Logger } from '@berth/platform';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { installOpenStackHeaders } from './openstack/os-http';
import { AppModule } from './app.module';
import type { ErrorBody } from './common/error-filter';
import { NestLogAdapter } from './common/log';
import { ApiMetrics } from './metrics/api-metrics';
import { installWebConsole } from './web/web-console';
import { installTerminal, TERMINAL_PATH, terminalPathItem } from './terminal/terminal-route';
import type { ApiEnv } from './config';

/** Requests larger than this are refused with 413 before they are parsed. */
const BODY_LIMIT_BYTES = 256 * 1024;
const MAX_PARAM_LENGTH = 1024;
const REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

/**
 * What the router's error hook needs of Fastify's reply. Its payload type is generic over route
 * schemas that a framework error has none of, hence `never` and the one cast where it is sent.
 */
interface RouterReply {
  status(code: number): { send(payload: never): unknown };
}

export const API_VERSION = '0.1.0';

export interface Route {
  method: string;
  url: string;
}

const ROUTES = new WeakMap<NestFastifyApplication, Route[]>();

/** Every route the router registered, as "GET /v1/instances/:id"; the RBAC test walks all of them. */
export function routesOf(app: NestFastifyApplication): Route[] {
  return [...(ROUTES.get(app) ?? [])];
}

/** Builds the API application (not listening): used by main and by the medium tests. */
export async function createApiApp(env: ApiEnv, log: Logger): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    // The request limits count by source address: behind a load balancer, the one it forwards (X-Forwarded-For).
    ...(env.trustedProxies.length > 0 ? { trustProxy: [...env.trustedProxies] } : {}),
    // Path parameters up to this length reach the validators, which answer 400 naming the field
    // (Fastify's default of 100 would answer 414 without saying which).
    // OpenStack's clients ask for version documents with and without a trailing slash (/compute/v2.1/).
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH, ignoreTrailingSlash: true },
    // The router's own refusals (a longer parameter, a path that is not valid URL encoding) answer
    // in the same error body as every other refusal, without echoing the path back.
    frameworkErrors: (error: { code: string }, request: { id: string }, reply: RouterReply) => {
      const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const message = tooLong
        ? `a path parameter is longer than ${MAX_PARAM_LENGTH} characters`
        : 'the path is not valid URL encoding';
      void reply.status(tooLong ? 414 : 400).send({
        error: {
          code: 'invalid',
          message,
          details: [{ field: 'path', rule: tooLong ? 'maxLength' : 'encoding', message }],
        },
        requestId: request.id,
      } satisfies ErrorBody as never);
    },
    logger: false,
    // Honour a caller's request id so one id follows a request across systems; make one otherwise.
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(env, log), adapter, {
    logger: new NestLogAdapter(log),
    // Fastify parses bodies, with the JSON parser below; Nest adds none of its own.
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  // The console's pages are not API routes: registered before the routes are collected (the RBAC matrix walks those).
  installWebConsole(fastify, env.BERTH_WEB_DIR, log);
  const routes: Route[] = [];
  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD' && method !== 'OPTIONS') routes.push({ method, url: route.url });
    }
  });
  ROUTES.set(app, routes);
  bodyParsers(fastify);
  installTerminal(fastify, app, log);
  // Everything done for a request (its log lines, the jobs it enqueues) carries its id.
  fastify.addHook('onRequest', (request, _reply, done) => withLogContext({ requestId: request.id }, done));
  fastify.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  installOpenStackHeaders(fastify);
  const metrics = app.get(ApiMetrics);
  fastify.addHook('onResponse', async (request, reply) => {
    metrics.observe(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    log.info(
      {
        requestId: request.id,
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });
  const document = openApiDocument(app);
  fastify.get('/docs', (_request, reply) => reply.send(document));
  await app.init();
  return app;
}

/** The Fastify instance under Nest's adapter (its own copy of fastify, so named through the adapter). */
type Fastify = ReturnType<ReturnType<NestFastifyApplication['getHttpAdapter']>['getInstance']>;

/**
 * An empty body sent as JSON (as some clients do on GET and DELETE) is no body, not a 400; anything else goes to
 * Fastify's own parser, with its guard against __proto__ and constructor keys. Bytes are read as bytes.
 */
function bodyParsers(fastify: Fastify): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    void parseJson(request, text, done);
  });
  // Glance's image upload (PUT /image/v2/images/{id}/file): its bytes as they came, for the face to judge.
  fastify.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body);
  });
}

export function openApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Berth API')
    .setDescription(
      'Containers and virtual machines on a private cloud. Authenticate with `Authorization: Bearer <token>`.',
    )
    .setVersion(API_VERSION)
    .addBearerAuth()
    .build();
  const doc = SwaggerModule.createDocument(app, config);
  doc.paths[TERMINAL_PATH.replace(':id', '{id}')] = terminalPathItem();
  return withRateLimitAnswers(doc);
}

/** Every route but the health probes counts against the request limits (RateLimits) and may answer 429. */
function withRateLimitAnswers(doc: OpenAPIObject): OpenAPIObject {
  const tooMany = {
    description:
      'Too many requests from this token or address, too many failed authentications from this address, or too many open event streams for this token.',
    headers: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } } },
    content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorView' } } },
  };
  for (const [path, item] of Object.entries(doc.paths)) {
    if (path === '/healthz' || path === '/readyz') continue;
    for (const op of [item.get, item.put, item.post, item.delete, item.patch]) if (op) op.responses['429'] = tooMany;
  }
  return doc;
}
