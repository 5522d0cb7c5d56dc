import type { Actor } from '@berth/data';
import type { Role } from '@berth/domain';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Who is calling: resolved from the bearer token by the AuthGuard. */
export interface Principal {
  tokenId: string;
  userId: string;
  projectId: string;
  role: Role;
  /** When the caller's token stops working (null: never); tokens it mints end no later. */
  expiresAt: Date | null;
  /** Given by a restricted application credential: it mints no tokens and no application credentials. */
  restricted: boolean;
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
