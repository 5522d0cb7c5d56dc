import { BerthError } from '@berth/domain';
import type { Logger } from '@berth/platform';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { LOG } from '../common/log';
import { Authenticator } from './authenticator';
import { POLICY, POLICY_ACTION, type PolicyAction } from './policy';
import type { AuthedRequest } from './principal';

const BEARER = /^Bearer ([^\s]+)$/i;

/** The token a request presents: `Authorization: Bearer <token>`, or OpenStack's `X-Auth-Token: <token>`. */
export function presentedToken(headers: AuthedRequest['headers']): { token: string | undefined; presented: boolean } {
  const openstack = headers['x-auth-token'];
  const token =
    typeof headers.authorization === 'string'
      ? BEARER.exec(headers.authorization)?.[1]
      : typeof openstack === 'string'
        ? openstack
        : undefined;
  return { token, presented: (headers.authorization ?? openstack) !== undefined };
}

/**
 * The one place where requests are authenticated and authorised by role: the handler's policy action names who may
 * call it (policy.ts), the Authenticator resolves the token. A handler without an action is refused.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
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
    if (access === 'public') {
      await this.authenticator.anonymous(request);
      return true;
    }
    const { token, presented } = presentedToken(request.headers);
    request.principal = await this.authenticator.authenticate(request, token, presented);
    this.authenticator.authorize(request.principal, access);
    return true;
  }
}
