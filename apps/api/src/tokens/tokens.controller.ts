import { ProjectEntity, TokenEntity, UserEntity } from '@berth/data';
import { BerthError } from '@berth/domain';
import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { actorOf, CurrentPrincipal, CurrentRequestId, type Principal } from '../auth/principal';
import { mintToken, revokeTokenAs, visibleTo } from '@berth/control';
import { ApiErrors } from '../common/api-errors';
import { findByRef } from '../common/references';
import { UuidPipe } from '../common/uuid-pipe';
import { CreateTokenDto, TokenCreated, TokenList, TokenView } from './token.dto';

/**
 * API tokens: random, shown once, stored hashed. The cloud admin mints for anyone; a member for itself and a
 * project-admin for the project's members, in its token's project, with a role no higher than its own and an
 * expiry no later; a reader mints nothing (mintToken). Revocation takes effect on the next request, since every
 * request looks its token up.
 */
@ApiTags('tokens')
@ApiBearerAuth()
@ApiErrors(401)
@Controller('v1/tokens')
export class TokensController {
  constructor(private readonly dataSource: DataSource) {}

  @Post()
  @Policy('token:create')
  @ApiOperation({ summary: 'Mint a token; the answer holds its secret, shown this once' })
  @ApiErrors(400, 403, 404, 413)
  @ApiCreatedResponse({ type: TokenCreated })
  async create(
    @Body() dto: CreateTokenDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<TokenCreated> {
    const expiresAt = dto.expiresAt === undefined ? null : new Date(dto.expiresAt);
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      throw BerthError.invalid([{ field: 'expiresAt', rule: 'future', message: 'expiresAt must be in the future' }]);
    }
    const { userId, projectId } = await this.subject(dto, principal);
    return mintToken(
      this.dataSource,
      principal,
      { userId, projectId, role: dto.role, name: dto.name ?? null, expiresAt },
      actorOf(principal, requestId),
    );
  }

  @Get()
  @Policy('token:list')
  @ApiOperation({
    summary: "List tokens without their secrets: the admin all, a project-admin its project's, others their user's",
  })
  @ApiOkResponse({ type: TokenList })
  async list(@CurrentPrincipal() principal: Principal): Promise<TokenList> {
    const tokens = await this.dataSource.getRepository(TokenEntity).find({
      where:
        principal.role === 'admin'
          ? {}
          : principal.role === 'project-admin'
            ? [{ userId: principal.userId }, { projectId: principal.projectId }]
            : { userId: principal.userId },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return { items: tokens.filter((t) => visibleTo(principal, t)).map((t) => TokenView.of(t)) };
  }

  @Delete(':id')
  @Policy('token:revoke')
  @HttpCode(204)
  @ApiOperation({
    summary: "Revoke a token: the admin any, a project-admin its project's, a member its user's, a reader itself",
  })
  @ApiErrors(400, 403, 404, 414)
  @ApiNoContentResponse()
  async revoke(
    @Param('id', UuidPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    await revokeTokenAs(this.dataSource, principal, id, actorOf(principal, requestId));
  }

  /**
   * Whom the new token is for. The cloud admin names any user and project; anyone else names its token's project,
   * and a member itself (a project-admin any user: mintToken holds it to the project's members). Nothing is looked
   * up that the caller may not name, so a refusal tells nothing of other users or projects.
   */
  private async subject(dto: CreateTokenDto, principal: Principal): Promise<{ userId: string; projectId: string }> {
    if (principal.role === 'admin') {
      const user = await findByRef(this.dataSource.getRepository(UserEntity), dto.user, 'user', 'user');
      const project = await findByRef(this.dataSource.getRepository(ProjectEntity), dto.project, 'project', 'project');
      return { userId: user.id, projectId: project.id };
    }
    const own = await this.dataSource.getRepository(ProjectEntity).findOneByOrFail({ id: principal.projectId });
    if (dto.project !== own.id && dto.project !== own.name) {
      throw BerthError.forbidden("you may only mint tokens in your token's project");
    }
    if (principal.role === 'project-admin') {
      const user = await findByRef(this.dataSource.getRepository(UserEntity), dto.user, 'user', 'user');
      return { userId: user.id, projectId: own.id };
    }
    const self = await this.dataSource.getRepository(UserEntity).findOneByOrFail({ id: principal.userId });
    if (dto.user !== self.id && dto.user !== self.name)
      throw BerthError.forbidden('you may only mint tokens for yourself');
    return { userId: self.id, projectId: own.id };
  }
}
