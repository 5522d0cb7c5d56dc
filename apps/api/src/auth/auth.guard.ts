import { TokenEntity } from '@berth/data';
import { BerthError } from '@berth/domain';
import type { Logger } from '@berth/platform';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DataSource, IsNull } from 'typeorm';
import { LOG } from '../common/log';
import { POLICY, POLICY_ACTION, type PolicyAction } from './policy';
import type { AuthedRequest } from './principal';
import { hashToken, TOKEN_PATTERN } from '@berth/control';
import { RateLimits } from './rate-limits';

const BEARER = /^Bearer ([^\s]+)$/i;

/**
 * The one place where requests are authenticated and authorised by role. It resolves
 * `Authorization: Bearer <token>` (or OpenStack's `X-Auth-Token: <token>`) to a principal (a missing, malformed, unknown, expired or revoked
 * token is a 401, and the token is never logged), then applies the handler's policy action. It also holds the
 * request limits (RateLimits): every route but the health probes counts against its address and token.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly dataSource: DataSource,
    private readonly limits: RateLimits,
    @Inject(LOG) private readonly log: Logger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthedRequest>();
    const action = this.reflector.get<PolicyAction | undefined>(POLICY_ACTION, context.getHandler());
    if (!action) {
      this.log.error({ url: request.url, method: request.method }, 'route has no policy action: refused');
      throw BerthError.forbidden('this route has no policy');
    }
    const access = POLICY[action];
    if (action === 'health:get') return true;
    await this.limits.beforeAuthentication(request.ip);
    if (access === 'public') {
      await this.limits.request(request.ip, null, false);
      return true;
    }

    // Berth's clients send a bearer token; OpenStack's send the same token as X-Auth-Token.
    const openstack = request.headers['x-auth-token'];
    const header = request.headers.authorization ?? openstack;
    const token =
      typeof request.headers.authorization === 'string'
        ? BEARER.exec(request.headers.authorization)?.[1]
        : typeof openstack === 'string'
          ? openstack
          : undefined;
    if (!token || !TOKEN_PATTERN.test(token))
      return this.refuse(request, header ? 'malformed credentials' : 'no credentials');
    const row = await this.dataSource.getRepository(TokenEntity).findOne({
      where: { secretHash: hashToken(token), revokedAt: IsNull() },
    });
    if (!row || (row.expiresAt !== null && row.expiresAt.getTime() <= Date.now())) {
      return this.refuse(request, row ? 'expired token' : 'unknown or revoked token');
    }
    request.principal = {
      tokenId: row.id,
      userId: row.userId,
      projectId: row.projectId,
      role: row.role,
      expiresAt: row.expiresAt,
      restricted: row.restricted,
    };
    await this.limits.request(request.ip, row.id, row.role === 'admin');

    switch (access) {
      case 'authenticated':
        return true;
      case 'member':
        if (row.role === 'reader') throw BerthError.forbidden('a reader token may not change anything');
        return true;
      case 'project-admin':
        if (row.role !== 'admin' && row.role !== 'project-admin') {
          throw BerthError.forbidden("only the project's project-admin or a cloud admin may do this");
        }
        return true;
      case 'admin':
        if (row.role !== 'admin') throw BerthError.forbidden('only a cloud admin may do this');
        return true;
    }
  }

  /** A 401; credentials that were presented and failed count against the address. */
  private async refuse(request: AuthedRequest, reason: string): Promise<never> {
    if (reason !== 'no credentials') await this.limits.failed(request.ip);
    this.log.warn(
      { requestId: request.id, ip: request.ip, method: request.method, url: request.url, reason },
      'authentication failed',
    );
    throw new BerthError('unauthenticated', 'a valid bearer token is required');
  }
}
