import type { Actor } from '@berth/db';
import type { Role } from '@berth/db';
import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Who is calling: resolved from the bearer token by the AuthGuard. */
export interface Principal {
  tokenId: string;
  userId: string;
  projectId: string;
  role: Role;
}

export type AuthedRequest = FastifyRequest & { principal: Principal };

export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => ctx.switchToHttp().getRequest<AuthedRequest>().principal,
);

export const CurrentRequestId = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): string => ctx.switchToHttp().getRequest<FastifyRequest>().id,
);

/** The project a caller's reads and writes are confined to; null for the cloud admin (all projects). */
export function projectScope(principal: Principal): string | null {
  return principal.role === 'admin' ? null : principal.projectId;
}

export function actorOf(principal: Principal, requestId: string): Actor {
  return { projectId: principal.projectId, userId: principal.userId, requestId };
}

export const PUBLIC_ROUTE = 'berth:public';
/** No token needed (health checks). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

export const ADMIN_ONLY = 'berth:admin-only';
/** Who may call a route besides project members: 'all' = admin only; 'writes' = everyone reads, admin writes. */
export type AdminRule = 'all' | 'writes';
/** Operator resources (hosts): only the cloud admin. */
export const AdminOnly = () => SetMetadata(ADMIN_ONLY, 'all' satisfies AdminRule);
/** Cloud-wide resources (flavors, images, provider networks): everyone reads, only the admin writes. */
export const AdminWrites = () => SetMetadata(ADMIN_ONLY, 'writes' satisfies AdminRule);
