import { SetMetadata } from '@nestjs/common';

/**
 * Who may call what, in one table (as Nova keeps its policy in code). A handler names its action with
 * @Policy; the AuthGuard looks the action up here. A handler without an action is refused.
 *
 * - public: no token
 * - authenticated: any valid token (reads; self-service on one's own tokens)
 * - member: a member of the project, or the cloud admin; readers get 403
 * - project-admin: a project-admin (its own project only: the handler answers 404 for another), or the cloud admin
 * - admin: the cloud admin only
 *
 * Which project's rows a caller sees is decided by the stores (projectScope): another project's
 * resource answers 404, never 403, so its existence does not leak.
 */
export const ACCESS_LEVELS = ['public', 'authenticated', 'member', 'project-admin', 'admin'] as const;
export type Access = (typeof ACCESS_LEVELS)[number];

export const POLICY = {
  'health:get': 'public',
  'auth:login': 'public',
  'openstack:versions': 'public',
  'token:validate': 'authenticated',
  'keypair:list': 'authenticated',
  'keypair:create': 'member',
  'application-credential:create': 'member',
  'project:members': 'project-admin',
  'user:password': 'authenticated',
  'metrics:get': 'admin',
  'overview:get': 'admin',
  'flavor:create': 'admin',
  'flavor:list': 'authenticated',
  'flavor:get': 'authenticated',
  'flavor:delete': 'admin',
  'image:create': 'member',
  'image:list': 'authenticated',
  'image:get': 'authenticated',
  'image:delete': 'member',
  'network:create': 'admin',
  'network:list': 'authenticated',
  'network:get': 'authenticated',
  'network:delete': 'admin',
  'instance:create': 'member',
  'instance:list': 'authenticated',
  'instance:get': 'authenticated',
  'instance:action': 'member',
  /** The interactive console: a shell changes what it likes, so a reader gets none. */
  'instance:console': 'member',
  'instance:delete': 'member',
  'operation:list': 'authenticated',
  'operation:get': 'authenticated',
  'event:stream': 'authenticated',
  'host:list': 'admin',
  'host:get': 'admin',
  'host:update': 'admin',
  'host:drain': 'admin',
  'host:enroll': 'admin',
  'host:evacuate': 'admin',
  'instance:migrations': 'admin',
  'aggregate:create': 'admin',
  'aggregate:list': 'admin',
  'aggregate:get': 'admin',
  'aggregate:update': 'admin',
  'aggregate:delete': 'admin',
  'server-group:create': 'member',
  'server-group:list': 'authenticated',
  'server-group:get': 'authenticated',
  'server-group:delete': 'member',
  'security-group:create': 'member',
  'security-group:list': 'authenticated',
  'security-group:get': 'authenticated',
  'security-group:update': 'member',
  'security-group:delete': 'member',
  'scheduler:dry-run': 'admin',
  'capacity:get': 'admin',
  'reservation:create': 'admin',
  'reservation:list': 'authenticated',
  'reservation:get': 'authenticated',
  'reservation:delete': 'admin',
  'image:prewarm': 'admin',
  'project:create': 'admin',
  'project:list': 'authenticated',
  'project:get': 'authenticated',
  'project:delete': 'admin',
  'quota:get': 'authenticated',
  'quota:update': 'admin',
  'user:create': 'admin',
  'user:list': 'admin',
  'user:delete': 'admin',
  'token:create': 'member',
  'token:list': 'authenticated',
  'token:revoke': 'authenticated',
  'volume:create': 'member',
  'volume:list': 'authenticated',
  'volume:get': 'authenticated',
  'volume:action': 'member',
  'volume:delete': 'member',
  'volume-type:create': 'admin',
  'volume-type:list': 'authenticated',
  'volume-type:get': 'authenticated',
  'volume-type:delete': 'admin',
  'usage:audit': 'admin',
  'usage:repair': 'admin',
} as const satisfies Record<string, Access>;

export type PolicyAction = keyof typeof POLICY;

export const POLICY_ACTION = 'berth:policy-action';

/** Names the policy action a handler performs. */
export const Policy = (action: PolicyAction) => SetMetadata(POLICY_ACTION, action);
