import { hashToken, TOKEN_PATTERN } from '@berth/control';
import { TokenEntity } from '@berth/data';
import { BerthError } from '@berth/domain';
import type { Logger } from '@berth/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DataSource, IsNull } from 'typeorm';
import { LOG } from '../common/log';
import type { Access } from './policy';
import type { Principal } from './principal';
import { RateLimits } from './rate-limits';

/**
 * Resolves a presented token to a principal and holds the request limits around it: a missing, malformed, unknown,
 * expired or revoked token is a 401 (and the token is never logged); every request counts against its address and
 * token. The AuthGuard uses it for every route, the interactive console's WebSocket for its upgrade.
 */
@Injectable()
export class Authenticator {
  constructor(
    private readonly dataSource: DataSource,
    private readonly limits: RateLimits,
    @Inject(LOG) private readonly log: Logger,
  ) {}

  /** Counts a request that needs no token against its address. */
  async anonymous(request: FastifyRequest): Promise<void> {
    await this.limits.beforeAuthentication(request.ip);
    await this.limits.request(request.ip, null, false);
  }

  /** The principal of `token`; `presented` says whether the request carried credentials at all (malformed or not). */
  async authenticate(request: FastifyRequest, token: string | undefined, presented: boolean): Promise<Principal> {
    await this.limits.beforeAuthentication(request.ip);
    if (!token || !TOKEN_PATTERN.test(token)) {
      return this.refuse(request, presented ? 'malformed credentials' : 'no credentials');
    }
    const row = await this.dataSource.getRepository(TokenEntity).findOne({
      where: { secretHash: hashToken(token), revokedAt: IsNull() },
    });
    if (!row || (row.expiresAt !== null && row.expiresAt.getTime() <= Date.now())) {
      return this.refuse(request, row ? 'expired token' : 'unknown or revoked token');
    }
    await this.limits.request(request.ip, row.id, row.role === 'admin');
    return {
      tokenId: row.id,
      userId: row.userId,
      projectId: row.projectId,
      role: row.role,
      expiresAt: row.expiresAt,
      restricted: row.restricted,
    };
  }

  /** Throws 403 unless the principal's role has `access` (other projects' resources are the stores' 404). */
  authorize(principal: Principal, access: Exclude<Access, 'public'>): void {
    switch (access) {
      case 'authenticated':
        return;
      case 'member':
        if (principal.role === 'reader') throw BerthError.forbidden('a reader token may not change anything');
        return;
      case 'project-admin':
        if (principal.role !== 'admin' && principal.role !== 'project-admin') {
          throw BerthError.forbidden("only the project's project-admin or a cloud admin may do this");
        }
        return;
      case 'admin':
        if (principal.role !== 'admin') throw BerthError.forbidden('only a cloud admin may do this');
        return;
    }
  }

  /** A 401; credentials that were presented and failed count against the address. */
  private async refuse(request: FastifyRequest, reason: string): Promise<never> {
    if (reason !== 'no credentials') await this.limits.failed(request.ip);
    this.log.warn(
      { requestId: request.id, ip: request.ip, method: request.method, url: request.url, reason },
      'authentication failed',
    );
    throw new BerthError('unauthenticated', 'a valid bearer token is required');
  }
}
