import { createLogger } from '@berth/platform';
import type { OpenAPIObject } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { POLICY, POLICY_ACTION, type PolicyAction } from './auth/policy';
import { statusOf } from './common/error-filter';
import { ApiEnv } from './config';
import { buildOpenApiDocument } from './openapi';
import { TERMINAL_ROUTE } from './terminal/terminal-route';

type Operation = {
  operationId: string;
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: unknown;
  responses: Record<string, unknown>;
};

/** The router's own refusal of a path parameter over its length limit (app.ts, frameworkErrors). */
const PATH_PARAMETER_TOO_LONG = 414;

/**
 * The error statuses a route can answer whatever its handler does, derived from what every request
 * passes through: the AuthGuard's policy for it (401 without a valid token, 403 for a role the
 * policy refuses, 429 past a request limit on every route but the health probes), the validation of what it takes (400 for any input, 413 for a body over the
 * limit), the router (414 for an overlong path parameter) and the resource it names (404). Each
 * status comes from the error filter's own mapping of the error the guard or pipe throws.
 */
function derivedStatuses(action: PolicyAction, op: Operation): number[] {
  const access = POLICY[action];
  const inputs = op.parameters ?? [];
  const statuses = new Set<number>();
  if (access !== 'public') statuses.add(statusOf('unauthenticated'));
  if (action !== 'health:get') statuses.add(statusOf('rate_limited'));
  if (access === 'member' || access === 'admin') statuses.add(statusOf('forbidden'));
  if (inputs.length > 0 || op.requestBody) statuses.add(statusOf('invalid'));
  if (op.requestBody) statuses.add(statusOf('payload_too_large'));
  if (inputs.some((p) => p.in === 'path')) {
    statuses.add(statusOf('not_found'));
    statuses.add(PATH_PARAMETER_TOO_LONG);
  }
  return [...statuses].sort((a, b) => a - b);
}

/** Each controller method by its OpenAPI operationId (Nest's `<Controller>_<method>`). */
function handlers(): Map<string, (...args: unknown[]) => unknown> {
  const env = Object.assign(new ApiEnv(), { BERTH_DATABASE_URL: 'postgres://unused' });
  const controllers = AppModule.forRoot(env, createLogger('openapi', 'silent')).controllers ?? [];
  const found = new Map<string, (...args: unknown[]) => unknown>();
  for (const controller of controllers) {
    const proto = controller.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const handler = proto[name];
      if (name !== 'constructor' && typeof handler === 'function') {
        found.set(`${controller.name}_${name}`, handler as (...args: unknown[]) => unknown);
      }
    }
  }
  return found;
}

describe('the OpenAPI document lists every status a route can answer', () => {
  let doc: OpenAPIObject;
  let byId: Map<string, (...args: unknown[]) => unknown>;
  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item as Record<string, Operation>).map(([method, op]) => ({
        route: `${method.toUpperCase()} ${path}`,
        op,
      })),
    );

  /** A Nest handler's policy action, or that of the one route that is not a Nest handler (the console). */
  const actionOf = (op: Operation): PolicyAction | undefined => {
    if (op.operationId === TERMINAL_ROUTE.operationId) return TERMINAL_ROUTE.action;
    const handler = byId.get(op.operationId);
    return handler ? (Reflect.getMetadata(POLICY_ACTION, handler) as PolicyAction | undefined) : undefined;
  };

  beforeAll(async () => {
    doc = await buildOpenApiDocument();
    byId = handlers();
  });

  it('finds the policy of every route', () => {
    expect(operations().length).toBeGreaterThan(50);
    const without = operations()
      .filter(({ op }) => !actionOf(op))
      .map(({ route }) => route);
    expect(without).toEqual([]);
  });

  it('documents the statuses its guard, its inputs and the router can give', () => {
    const missing = operations().flatMap(({ route, op }) => {
      const action = actionOf(op)!;
      const documented = new Set(Object.keys(op.responses).map(Number));
      return derivedStatuses(action, op)
        .filter((status) => !documented.has(status))
        .map((status) => `${route}: ${status}`);
    });
    expect(missing).toEqual([]);
  });

  it('fails for a route whose document leaves out a status (the check itself)', () => {
    const member: Operation = { operationId: 'x', requestBody: {}, responses: { 202: {} } };
    expect(derivedStatuses('instance:create', member)).toEqual([400, 401, 403, 413, 429]);
    const path: Operation = { operationId: 'x', parameters: [{ in: 'path', name: 'id' }], responses: {} };
    expect(derivedStatuses('instance:get', path)).toEqual([400, 401, 404, 414, 429]);
    expect(derivedStatuses('health:get', { operationId: 'x', responses: {} })).toEqual([]);
  });
});
