import type { Logger } from '@berth/platform';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, resolve, sep } from 'node:path';

type Fastify = ReturnType<ReturnType<NestFastifyApplication['getHttpAdapter']>['getInstance']>;

interface WebFile {
  body: Buffer;
  type: string;
  etag: string;
  /** Vite names its assets by their content: cached for a year; index.html is asked again each time. */
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** Paths that are the API's, never the console's: an unknown one is the API's 404, not the console's page. */
const API_PREFIXES = ['/v1', '/identity', '/compute', '/image', '/network', '/docs', '/metrics', '/healthz', '/readyz'];

/** The console runs scripts, styles and connections of its own origin only, and is never framed. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; " +
    "form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** The built console's files, by URL path, read once at start (a few megabytes at most). */
function readFiles(dir: string): Map<string, WebFile> {
  const files = new Map<string, WebFile>();
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const full = join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (!entry.name.endsWith('.map')) {
        const body = readFileSync(full);
        const path = `/${relative(dir, full).split(sep).join('/')}`;
        files.set(path, {
          body,
          type: TYPES[extname(entry.name)] ?? 'application/octet-stream',
          etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
          immutable: path.startsWith('/assets/'),
        });
      }
    }
  };
  walk(dir);
  return files;
}

/**
 * Serves the web console under `/`: its assets, and its page for every other path that is not the API's (the console
 * routes in the browser). Public, as any page is; everything it shows comes from /v1 with the user's token.
 * Returns whether a console was found to serve.
 */
export function installWebConsole(fastify: Fastify, configured: string, log: Logger): boolean {
  const dir = resolve(configured || join(__dirname, '../../../../web'));
  if (!existsSync(join(dir, 'index.html'))) {
    log.info({ dir }, 'no web console built there: / serves nothing');
    return false;
  }
  const files = readFiles(dir);
  const index = files.get('/index.html');
  if (!index) return false;
  fastify.get('/*', (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (API_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`))) {
      return reply.callNotFound();
    }
    const file = files.get(path) ?? (path.startsWith('/assets/') ? undefined : index);
    if (!file) return reply.callNotFound();
    void reply.headers(SECURITY_HEADERS);
    void reply.header('etag', file.etag);
    void reply.header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    return reply.type(file.type).send(file.body);
  });
  log.info({ dir, files: files.size }, 'serving the web console at /');
  return true;
}
