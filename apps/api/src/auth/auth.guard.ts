import { TokenEntity } from '@berth/db';
import { BerthError } from '@berth/domain';
import type { Logger } from '@berth/platform';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DataSource, IsNull } from 'typeorm';
import { LOG } from '../common/log';
import { ADMIN_ONLY, PUBLIC_ROUTE, type AdminRule, type AuthedRequest } from './principal';
import { hashToken, TOKEN_PATTERN } from './tokens';

const BEARER = /^Bearer ([^\s]+)$/i;

/**
 * Resolves `Authorization: Bearer <token>` to a principal on every request. A missing, malformed,
 * unknown, expired or revoked token is a 401; the token itself is never logged.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly dataSource: DataSource,
    @Inject(LOG) private readonly log: Logger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? BEARER.exec(header) : null;
    const token = match?.[1];
    if (!token || !TOKEN_PATTERN.test(token))
      return this.refuse(request, header ? 'malformed credentials' : 'no credentials');

    const row = await this.dataSource.getRepository(TokenEntity).findOne({
      where: { secretHash: hashToken(token), revokedAt: IsNull() },
    });
    if (!row || (row.expiresAt !== null && row.expiresAt.getTime() <= Date.now())) {
      return this.refuse(request, row ? 'expired token' : 'unknown or revoked token');
    }
    request.principal = { tokenId: row.id, userId: row.userId, projectId: row.projectId, role: row.role };

    const rule = this.reflector.getAllAndOverride<AdminRule | undefined>(ADMIN_ONLY, targets);
    if (row.role !== 'admin' && (rule === 'all' || (rule === 'writes' && request.method !== 'GET'))) {
      throw new BerthError(
        'forbidden',
        rule === 'all' ? 'only a cloud admin may use this' : 'only a cloud admin may change this resource',
      );
    }
    return true;
  }

  private refuse(request: AuthedRequest, reason: string): never {
    this.log.warn(
      { requestId: request.id, ip: request.ip, method: request.method, url: request.url, reason },
      'authentication failed',
    );
    throw new BerthError('unauthenticated', 'a valid bearer token is required');
  }
}
