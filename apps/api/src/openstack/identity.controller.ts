import {
  applicationCredentialLogin,
  hashToken,
  passwordLogin,
  rescopeToken,
  revokeTokenAs,
  TOKEN_PATTERN,
  type ApplicationCredentialRef,
  type LoginScope,
} from '@berth/control';
import { tokenSubject, userProjects, ProjectEntity, UserEntity, type TokenSubject } from '@berth/data';
import { BerthError, isUuid } from '@berth/domain';
import { Body, Controller, Delete, Get, Headers, HttpCode, Ip, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { CurrentPrincipal, CurrentRequestId, projectScope, type Principal } from '../auth/principal';
import { RateLimits } from '../auth/rate-limits';
import { UuidPipe } from '../common/uuid-pipe';
import { ApiEnv } from '../config';
import { arrayAt, at, objectAt, refuseField, stringAt } from './os-body';
import { publicBase } from './os-http';
import { catalog, DEFAULT_DOMAIN, identityVersion, projectDocument, tokenDocument } from './identity.views';

/**
 * Keystone v3 at /identity: version documents, logins (password and token methods) answering X-Subject-Token with
 * a catalog of Berth's OpenStack services, token validation and revocation, and the projects and users a token may
 * see. A Keystone token is a Berth token: the same secret works as Authorization: Bearer on /v1.
 */
@ApiExcludeController()
@Controller('identity')
export class IdentityController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly env: ApiEnv,
    private readonly limits: RateLimits,
  ) {}

  private base(request: FastifyRequest): string {
    return publicBase(request, this.env.BERTH_PUBLIC_URL);
  }

  @Get()
  @Policy('openstack:versions')
  @HttpCode(300)
  versions(@Req() request: FastifyRequest) {
    return { versions: { values: [identityVersion(this.base(request))] } };
  }

  @Get('v3')
  @Policy('openstack:versions')
  version(@Req() request: FastifyRequest) {
    return { version: identityVersion(this.base(request)) };
  }

  @Post('v3/auth/tokens')
  @Policy('auth:login')
  @HttpCode(201)
  async login(
    @Body() body: Record<string, unknown>,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @CurrentRequestId() requestId: string,
    @Ip() address: string,
  ) {
    const methods = arrayAt(body, 'auth.identity.methods');
    const method = methods?.length === 1 ? methods[0] : undefined;
    if (method !== 'password' && method !== 'token' && method !== 'application_credential') {
      refuseField('auth.identity.methods', 'isIn', 'must be ["password"], ["token"] or ["application_credential"]');
    }
    const scope = await this.scope(body);
    let secret: string;
    try {
      secret =
        method === 'password'
          ? await this.password(body, scope, requestId)
          : method === 'token'
            ? await this.token(body, scope, requestId)
            : await this.applicationCredential(body, requestId);
    } catch (error) {
      if (error instanceof BerthError && error.code === 'unauthenticated') await this.limits.failed(address);
      throw error;
    }
    const subject = await tokenSubject(this.dataSource.manager, hashToken(secret));
    if (!subject) throw new BerthError('unauthenticated', 'the token ended before it could be shown');
    void reply.header('x-subject-token', secret);
    return tokenDocument(subject, method, this.base(request), this.env.BERTH_REGION);
  }

  @Get('v3/auth/tokens')
  @Policy('token:validate')
  async validate(
    @Headers('x-subject-token') subjectToken: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
  ) {
    const subject = await this.subject(subjectToken, principal);
    return tokenDocument(subject, 'token', this.base(request), this.env.BERTH_REGION);
  }

  @Delete('v3/auth/tokens')
  @Policy('token:validate')
  @HttpCode(204)
  async revoke(
    @Headers('x-subject-token') subjectToken: string | undefined,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    const subject = await this.subject(subjectToken, principal);
    await revokeTokenAs(this.dataSource, principal, subject.id, {
      projectId: principal.projectId,
      userId: principal.userId,
      requestId,
    });
  }

  @Get('v3/auth/catalog')
  @Policy('token:validate')
  authCatalog(@Req() request: FastifyRequest) {
    return { catalog: catalog(this.base(request), this.env.BERTH_REGION), links: { self: null } };
  }

  /** The projects the token's user may scope to. */
  @Get('v3/auth/projects')
  @Policy('token:validate')
  async authProjects(@CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest) {
    const base = this.base(request);
    const projects = await userProjects(this.dataSource.manager, principal.userId);
    return { projects: projects.map((p) => projectDocument(p, base)), links: { self: null } };
  }

  /** The cloud admin sees every project; anyone else its token's. */
  @Get('v3/projects')
  @Policy('project:list')
  async projects(@CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest) {
    const scope = projectScope(principal);
    const all = await this.dataSource.getRepository(ProjectEntity).find({ order: { name: 'ASC' } });
    const base = this.base(request);
    const shown = all.filter((p) => scope === null || p.id === scope).map((p) => projectDocument(p, base));
    return { projects: shown, links: { self: `${base}/identity/v3/projects`, previous: null, next: null } };
  }

  @Get('v3/projects/:id')
  @Policy('project:get')
  async project(
    @Param('id', UuidPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
  ) {
    const scope = projectScope(principal);
    const project = await this.dataSource.getRepository(ProjectEntity).findOneBy({ id });
    if (!project || (scope !== null && scope !== id)) throw BerthError.notFound('project', id);
    return { project: projectDocument(project, this.base(request)) };
  }

  /** A user sees itself; the cloud admin anyone. */
  @Get('v3/users/:id')
  @Policy('token:validate')
  async user(
    @Param('id', UuidPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
  ) {
    const user =
      id === principal.userId || principal.role === 'admin'
        ? await this.dataSource.getRepository(UserEntity).findOneBy({ id })
        : null;
    if (!user) throw BerthError.notFound('user', id);
    return {
      user: {
        id: user.id,
        name: user.name,
        domain_id: DEFAULT_DOMAIN.id,
        enabled: true,
        password_expires_at: null,
        options: {},
        links: { self: `${this.base(request)}/identity/v3/users/${user.id}` },
      },
    };
  }

  /** The project a login asks for (scope.project by id, or by name in the default domain); null when none is asked. */
  private async scope(body: unknown): Promise<LoginScope | null> {
    if (at(body, 'auth.scope') === undefined) return null;
    objectAt(body, 'auth.scope.project');
    const id = stringAt(body, 'auth.scope.project.id', 64, true);
    const name = id === undefined ? stringAt(body, 'auth.scope.project.name', 128) : undefined;
    if (name !== undefined) this.checkDomain(body, 'auth.scope.project.domain');
    const where = id !== undefined ? (isUuid(id) ? { id: id.toLowerCase() } : null) : { name: name ?? '' };
    const found = where && (await this.dataSource.getRepository(ProjectEntity).findOneBy(where));
    // An unknown project is refused like any other wrong part of a login, later, at the same cost.
    return { projectId: found ? found.id : null };
  }

  private checkDomain(body: unknown, path: string): void {
    const id = stringAt(body, `${path}.id`, 64, true);
    const name = id === undefined ? stringAt(body, `${path}.name`, 64, true) : undefined;
    if ((id !== undefined && id !== DEFAULT_DOMAIN.id) || (name !== undefined && name !== DEFAULT_DOMAIN.name)) {
      refuseField(path, 'isIn', `must be the default domain (id "default", name "Default")`);
    }
  }

  private async password(body: unknown, scope: LoginScope | null, requestId: string): Promise<string> {
    const userId = stringAt(body, 'auth.identity.password.user.id', 64, true);
    const userName = userId === undefined ? stringAt(body, 'auth.identity.password.user.name', 128) : undefined;
    if (userName !== undefined) this.checkDomain(body, 'auth.identity.password.user.domain');
    const password = stringAt(body, 'auth.identity.password.user.password', 1024);
    if (scope === null) refuseField('auth.scope', 'required', 'is required: Berth tokens act in one project');
    const issued = await passwordLogin(
      this.dataSource,
      { user: userId ?? userName ?? '', password, projectId: scope.projectId },
      {
        tokenTtlSec: this.env.BERTH_TOKEN_TTL_SEC,
        lockout: { maxFailures: this.env.BERTH_LOGIN_MAX_FAILURES, lockoutSec: this.env.BERTH_LOGIN_LOCKOUT_SEC },
      },
      { requestId },
    );
    return issued.token;
  }

  /** Keystone's application_credential method: by id, or by name and its user (by id, or by name in the domain). */
  private async applicationCredential(body: unknown, requestId: string): Promise<string> {
    const path = 'auth.identity.application_credential';
    if (at(body, 'auth.scope') !== undefined) {
      refuseField('auth.scope', 'absent', 'must be absent: an application credential names its project');
    }
    const id = stringAt(body, `${path}.id`, 64, true);
    const secret = stringAt(body, `${path}.secret`, 1024);
    let ref: ApplicationCredentialRef;
    if (id !== undefined) {
      ref = { id: isUuid(id) ? id.toLowerCase() : null };
    } else {
      const name = stringAt(body, `${path}.name`, 255);
      const userId = stringAt(body, `${path}.user.id`, 64, true);
      const userName = userId === undefined ? stringAt(body, `${path}.user.name`, 128) : undefined;
      if (userName !== undefined) this.checkDomain(body, `${path}.user.domain`);
      ref = { user: userId ?? userName ?? '', name };
    }
    const issued = await applicationCredentialLogin(
      this.dataSource,
      ref,
      secret,
      { tokenTtlSec: this.env.BERTH_TOKEN_TTL_SEC },
      { requestId },
    );
    return issued.token;
  }

  private async token(body: unknown, scope: LoginScope | null, requestId: string): Promise<string> {
    const given = stringAt(body, 'auth.identity.token.id', 1024);
    const from = TOKEN_PATTERN.test(given) ? await tokenSubject(this.dataSource.manager, hashToken(given)) : null;
    if (!from) throw new BerthError('unauthenticated', 'the token is not valid');
    const issued = await rescopeToken(
      this.dataSource,
      from,
      scope,
      { tokenTtlSec: this.env.BERTH_TOKEN_TTL_SEC },
      { requestId },
    );
    return issued === 'same' ? given : issued.token;
  }

  /** The token named by X-Subject-Token, if the caller may see it (its user's, or any for the cloud admin); else 404. */
  private async subject(secret: string | undefined, principal: Principal): Promise<TokenSubject> {
    if (secret === undefined) refuseField('X-Subject-Token', 'required', 'is required');
    const subject = TOKEN_PATTERN.test(secret) ? await tokenSubject(this.dataSource.manager, hashToken(secret)) : null;
    if (!subject || (principal.role !== 'admin' && subject.userId !== principal.userId)) {
      throw BerthError.notFound('token', 'X-Subject-Token');
    }
    return subject;
  }
}
