import { TERMINAL_MAX_CELLS, type TerminalSize } from '@berth/contracts';
import { BerthError, isUuid, type FieldError } from '@berth/domain';
import { errorMessage, type Logger } from '@berth/platform';
import websocket from '@fastify/websocket';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { presentedToken } from '../auth/auth.guard';
import { Authenticator } from '../auth/authenticator';
import { POLICY } from '../auth/policy';
import { sendError } from '../common/error-filter';
import { Terminals, type TerminalRequest } from './terminals';

type Fastify = ReturnType<ReturnType<NestFastifyApplication['getHttpAdapter']>['getInstance']>;

/** The WebSocket subprotocol of the interactive console; the one the API answers with. */
export const TERMINAL_PROTOCOL = 'berth.terminal.v1';
/**
 * A browser cannot set headers on a WebSocket, and a URL is logged and kept in histories: it offers its token as a
 * second subprotocol, `berth.token.<token>`, which the API reads and never echoes back.
 */
export const TOKEN_PROTOCOL_PREFIX = 'berth.token.';
export const TERMINAL_PATH = '/v1/instances/:id/terminal';
/** Not a Nest handler: its OpenAPI operation and its policy action, for the checks that walk handlers. */
export const TERMINAL_ROUTE = { operationId: 'Terminal_open', action: 'instance:console' } as const;
/** Keystrokes and control messages are small; a larger message is a protocol error (1009). */
const MAX_MESSAGE_BYTES = 64 * 1024;

/** The token a request presents: the Authorization header (any client), else the subprotocol (browsers). */
function tokenOf(request: FastifyRequest): { token: string | undefined; presented: boolean } {
  const header = presentedToken(request.headers);
  if (header.presented) return header;
  const offered = String(request.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
  return { token: offered?.slice(TOKEN_PROTOCOL_PREFIX.length), presented: offered !== undefined };
}

/** `?cols=C&rows=R`, each a whole number of cells from 1 to 1000; 80 by 24 when absent. */
function sizeOf(query: Record<string, unknown>): TerminalSize {
  const errors: FieldError[] = [];
  const cells = (field: 'cols' | 'rows', fallback: number): number => {
    const raw = query[field];
    if (raw === undefined) return fallback;
    const n = typeof raw === 'string' && /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
    if (n >= 1 && n <= TERMINAL_MAX_CELLS) return n;
    errors.push({ field, rule: 'range', message: `${field} must be a whole number from 1 to ${TERMINAL_MAX_CELLS}` });
    return fallback;
  };
  const size = { cols: cells('cols', 80), rows: cells('rows', 24) };
  if (errors.length > 0) throw BerthError.invalid(errors);
  return size;
}

/**
 * GET /v1/instances/:id/terminal, a WebSocket: the instance's interactive console (docs/api.md). Everything a
 * request can be refused for is checked before the upgrade and answered as any API error (401, 403 for a reader,
 * 404 for another project's instance, 409 when it does not run, 426 without an upgrade); what the host says after
 * (its serial console in use, no answer) closes the WebSocket with a code and the reason (CLOSE_CODES).
 */
export function installTerminal(fastify: Fastify, app: NestFastifyApplication, log: Logger): void {
  const checked = new WeakMap<FastifyRequest, TerminalRequest>();
  const terminals = app.get(Terminals);
  const authenticator = app.get(Authenticator);

  const preValidation = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const { token, presented } = tokenOf(request);
      const principal = await authenticator.authenticate(request, token, presented);
      authenticator.authorize(principal, POLICY[TERMINAL_ROUTE.action]);
      const { id } = request.params as { id: string };
      if (!isUuid(id)) throw BerthError.invalid([{ field: 'id', rule: 'isUuid', message: 'id must be a UUID' }]);
      const size = sizeOf(request.query as Record<string, unknown>);
      checked.set(request, await terminals.check(principal, id.toLowerCase(), size, request.id));
    } catch (error) {
      sendError(error, request, reply, log);
      return reply;
    }
  };

  // Nest's adapter types its instance with a type provider of its own; the plugin's types want Fastify's default.
  const root = fastify as unknown as FastifyInstance;
  void root.register(websocket, {
    options: {
      maxPayload: MAX_MESSAGE_BYTES,
      handleProtocols: (offered: Set<string>) => (offered.has(TERMINAL_PROTOCOL) ? TERMINAL_PROTOCOL : false),
    },
  });
  void root.register((scope, _options, done) => {
    scope.route({
      method: 'GET',
      url: TERMINAL_PATH,
      preValidation,
      handler: (request, reply) => {
        const message = 'this is a WebSocket: connect with an Upgrade: websocket request';
        const error = Object.assign(new Error(message), { statusCode: 426 });
        sendError(error, request, reply, log);
      },
      wsHandler: (socket, request) => {
        const checkedRequest = checked.get(request);
        if (!checkedRequest) return socket.close(1011, 'not checked');
        terminals.serve(socket, checkedRequest).catch((error: unknown) => {
          log.error({ requestId: request.id, err: errorMessage(error) }, 'console session failed');
          socket.close(1011, 'the console session failed');
        });
      },
    });
    done();
  });
}

/** The WebSocket in the OpenAPI document, which Nest's generator does not see (it is not a Nest route). */
export function terminalPathItem() {
  const error = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorView' } } },
  });
  const cells = (name: string, fallback: number) => ({
    name,
    in: 'query' as const,
    required: false,
    description: `The viewer's terminal ${name === 'cols' ? 'width' : 'height'} in character cells`,
    schema: { type: 'integer' as const, minimum: 1, maximum: TERMINAL_MAX_CELLS, default: fallback },
  });
  return {
    get: {
      operationId: TERMINAL_ROUTE.operationId,
      summary:
        "An interactive console of a running instance: a shell in a container, a VM's serial console (WebSocket)",
      description: [
        `A WebSocket with subprotocol \`${TERMINAL_PROTOCOL}\`. Authenticate with the Authorization header, or (browsers)`,
        `by offering a second subprotocol \`${TOKEN_PROTOCOL_PREFIX}<token>\`, which is never echoed; never in the URL.`,
        'Binary messages carry keystrokes one way and terminal output the other; text messages are JSON control:',
        '`{"type":"resize","cols":C,"rows":R}` from the viewer, `{"type":"opened","kind":"shell"|"serial"}` from the',
        'API once the host opened it. A shell runs `/bin/sh -l` as the container user, under its limits. A VM has one',
        'serial console session at a time. The WebSocket closes with 1000 when the terminal ends (the reason says',
        'why), 1001 when the API stops, 4401 when the token is revoked or expires, 4409 when the host refused (the',
        'instance stopped, its serial console is in use), 4408 when the viewer does not keep up with the output, 4503',
        "when the instance's host does not answer. Every session is an `instance.console` operation in the audit trail.",
      ].join(' '),
      tags: ['instances'],
      security: [{ bearer: [] }],
      parameters: [
        { name: 'id', required: true, in: 'path' as const, schema: { type: 'string' as const } },
        cells('cols', 80),
        cells('rows', 24),
      ],
      responses: {
        '101': { description: 'Switching to the WebSocket protocol' },
        '400': error('A field broke a rule (id, cols, rows); details name each field and rule.'),
        '401': error('No valid token.'),
        '403': error('A reader token may not open a console.'),
        '404': error('No such instance (or not visible to this token).'),
        '409': error('The instance is not running.'),
        '414': error('A path parameter is longer than 1024 characters.'),
        '426': error('Not a WebSocket upgrade request.'),
      },
    },
  };
}
