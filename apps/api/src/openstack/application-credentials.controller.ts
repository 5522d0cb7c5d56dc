import { createApplicationCredential, deleteOwnApplicationCredential } from '@berth/control';
import { userApplicationCredential, userApplicationCredentials, type ApplicationCredentialRow } from '@berth/data';
import { BerthError, isUuid, ROLES, type Role } from '@berth/domain';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { actorOf, CurrentPrincipal, CurrentRequestId, type Principal } from '../auth/principal';
import { arrayAt, at, objectAt, queryValue, refuseField, stringAt } from './os-body';
import { keystoneTime, publicBase } from './os-http';
import { ApiEnv } from '../config';
import { OsIdPipe } from './os-id.pipe';

/** Keystone's application credential document (the secret only in the answer to its create). */
function credentialDocument(c: ApplicationCredentialRow, base: string, secret?: string) {
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    expires_at: c.expiresAt === null ? null : keystoneTime(c.expiresAt),
    project_id: c.projectId,
    roles: [{ id: c.role, name: c.role, domain_id: null }],
    unrestricted: c.unrestricted,
    access_rules: [],
    user_id: c.userId,
    links: { self: `${base}/identity/v3/users/${c.userId}/application_credentials/${c.id}` },
    ...(secret === undefined ? {} : { secret }),
  };
}

/** The one role a credential asks for (Keystone's roles: [{name} or {id}]); undefined: the token's own. */
function roleOf(body: unknown): Role | undefined {
  const roles = arrayAt(body, 'application_credential.roles');
  if (roles === undefined || roles.length === 0) return undefined;
  if (roles.length > 1) refuseField('application_credential.roles', 'maxSize', 'must name one role: a token has one');
  const name =
    stringAt(body, 'application_credential.roles.0.name', 64, true) ??
    stringAt(body, 'application_credential.roles.0.id', 64);
  if (!(ROLES as readonly string[]).includes(name)) {
    refuseField('application_credential.roles.0', 'isIn', `must be one of: ${ROLES.join(', ')}`);
  }
  return name as Role;
}

/**
 * Keystone's application credentials at /identity/v3/users/{user}/application_credentials: a user's own (another's
 * answer 404), made for the token's project with a role no higher than the token's, its secret shown once. Deleting
 * one ends every token it gave. Access rules are not offered.
 */
@ApiExcludeController()
@Controller('identity/v3/users/:user/application_credentials')
export class ApplicationCredentialsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly env: ApiEnv,
  ) {}

  @Post()
  @Policy('application-credential:create')
  @HttpCode(201)
  async create(
    @Param('user', new OsIdPipe('user')) user: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
    @Req() request: FastifyRequest,
  ) {
    this.own(user, principal);
    objectAt(body, 'application_credential');
    if ((arrayAt(body, 'application_credential.access_rules')?.length ?? 0) > 0) {
      refuseField('application_credential.access_rules', 'maxSize', 'must be empty: access rules are not offered');
    }
    const expires = stringAt(body, 'application_credential.expires_at', 64, true);
    const expiresAt = expires === undefined ? null : new Date(expires.endsWith('Z') ? expires : `${expires}Z`);
    if (expiresAt !== null && Number.isNaN(expiresAt.getTime())) {
      refuseField('application_credential.expires_at', 'isDate', 'must be an ISO 8601 time');
    }
    const unrestricted = at(body, 'application_credential.unrestricted') ?? false;
    if (typeof unrestricted !== 'boolean') {
      refuseField('application_credential.unrestricted', 'isBoolean', 'must be true or false');
    }
    const made = await createApplicationCredential(
      this.dataSource,
      principal,
      {
        name: stringAt(body, 'application_credential.name', 255),
        description: stringAt(body, 'application_credential.description', 1024, true) ?? '',
        secret: stringAt(body, 'application_credential.secret', 1024, true) ?? null,
        expiresAt,
        role: roleOf(body) ?? null,
        unrestricted,
      },
      actorOf(principal, requestId),
    );
    return { application_credential: credentialDocument(made.credential, this.base(request), made.secret) };
  }

  @Get()
  @Policy('token:validate')
  async list(
    @Param('user', new OsIdPipe('user')) user: string,
    @Query() query: Record<string, string | string[] | undefined>,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
  ) {
    this.own(user, principal);
    const name = queryValue(query, 'name');
    const all = await userApplicationCredentials(this.dataSource.manager, principal.userId);
    const base = this.base(request);
    return {
      application_credentials: all
        .filter((c) => name === undefined || c.name === name)
        .map((c) => credentialDocument(c, base)),
      links: { self: `${base}/identity/v3/users/${user}/application_credentials`, previous: null, next: null },
    };
  }

  @Get(':id')
  @Policy('token:validate')
  async show(
    @Param('user', new OsIdPipe('user')) user: string,
    @Param('id', new OsIdPipe('application credential')) id: string,
    @CurrentPrincipal() principal: Principal,
    @Req() request: FastifyRequest,
  ) {
    this.own(user, principal);
    const found = isUuid(id) ? await userApplicationCredential(this.dataSource.manager, principal.userId, id) : null;
    if (!found) throw BerthError.notFound('application credential', id);
    return { application_credential: credentialDocument(found, this.base(request)) };
  }

  /** A member's or a reader's own credential goes as its tokens do: with every token it gave. */
  @Delete(':id')
  @Policy('token:validate')
  @HttpCode(204)
  async remove(
    @Param('user', new OsIdPipe('user')) user: string,
    @Param('id', new OsIdPipe('application credential')) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    this.own(user, principal);
    if (!isUuid(id)) throw BerthError.notFound('application credential', id);
    await deleteOwnApplicationCredential(this.dataSource, principal.userId, id, actorOf(principal, requestId));
  }

  /** Only the caller's own user's credentials exist for it. */
  private own(user: string, principal: Principal): void {
    if (user.toLowerCase() !== principal.userId) throw BerthError.notFound('user', user);
  }

  private base(request: FastifyRequest): string {
    return publicBase(request, this.env.BERTH_PUBLIC_URL);
  }
}
