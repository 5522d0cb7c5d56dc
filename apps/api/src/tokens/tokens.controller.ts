import { insertToken, ProjectEntity, revokeToken, TokenEntity, UserEntity } from '@berth/data';
import { BerthError, roleAtMost } from '@berth/domain';
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
import { generateToken, hashToken } from '../auth/tokens';
import { ApiErrors } from '../common/api-errors';
import { recordedChange } from '../common/recorded';
import { findByRef } from '../common/references';
import { UuidPipe } from '../common/uuid-pipe';
import { CreateTokenDto, TokenCreated, TokenList, TokenView } from './token.dto';

/**
 * API tokens: random, shown once, stored hashed. The cloud admin mints for anyone; everyone else
 * mints for itself, in its token's project, with a role no higher than its own. Revocation takes
 * effect on the next request, since every request looks its token up.
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
    const secret = generateToken();
    const token = await recordedChange(
      this.dataSource,
      { ...actorOf(principal, requestId), projectId },
      'token.create',
      'token',
      (m) =>
        insertToken(m, {
          userId,
          projectId,
          role: dto.role,
          name: dto.name ?? null,
          secretHash: hashToken(secret),
          expiresAt,
        }),
    );
    return { ...TokenView.of(token), token: secret };
  }

  @Get()
  @Policy('token:list')
  @ApiOperation({ summary: "List tokens without their secrets: the admin all, others their user's" })
  @ApiOkResponse({ type: TokenList })
  async list(@CurrentPrincipal() principal: Principal): Promise<TokenList> {
    const tokens = await this.dataSource.getRepository(TokenEntity).find({
      where: principal.role === 'admin' ? {} : { userId: principal.userId },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return { items: tokens.map((t) => TokenView.of(t)) };
  }

  @Delete(':id')
  @Policy('token:revoke')
  @HttpCode(204)
  @ApiOperation({ summary: "Revoke a token: the admin any, others their user's; repeating is harmless" })
  @ApiErrors(400, 404, 414)
  @ApiNoContentResponse()
  async revoke(
    @Param('id', UuidPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    const where = principal.role === 'admin' ? { id } : { id, userId: principal.userId };
    const token = await this.dataSource.getRepository(TokenEntity).findOneBy(where);
    if (!token) throw BerthError.notFound('token', id);
    await recordedChange(
      this.dataSource,
      { ...actorOf(principal, requestId), projectId: token.projectId },
      'token.revoke',
      'token',
      async (m) => {
        await revokeToken(m, id);
        return token;
      },
    );
  }

  /** Whom the new token is for; a non-admin may only mint for itself, in its project, up to its role. */
  private async subject(dto: CreateTokenDto, principal: Principal): Promise<{ userId: string; projectId: string }> {
    if (principal.role === 'admin') {
      const user = await findByRef(this.dataSource.getRepository(UserEntity), dto.user, 'user', 'user');
      const project = await findByRef(this.dataSource.getRepository(ProjectEntity), dto.project, 'project', 'project');
      return { userId: user.id, projectId: project.id };
    }
    const self = await this.dataSource.getRepository(UserEntity).findOneByOrFail({ id: principal.userId });
    if (dto.user !== self.id && dto.user !== self.name)
      throw BerthError.forbidden('you may only mint tokens for yourself');
    const own = await this.dataSource.getRepository(ProjectEntity).findOneByOrFail({ id: principal.projectId });
    if (dto.project !== own.id && dto.project !== own.name) {
      throw BerthError.forbidden("you may only mint tokens in your token's project");
    }
    if (!roleAtMost(dto.role, principal.role))
      throw BerthError.forbidden(`you may not mint a role above your own (${principal.role})`);
    return { userId: self.id, projectId: own.id };
  }
}
