import { changePassword, deleteUser, hashPassword } from '@berth/control';
import { UserEntity } from '@berth/data';
import {
  BerthError,
  checkPassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  RESOURCE_NAME,
  RESOURCE_NAME_RULE,
} from '@berth/domain';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Allow, IsOptional, IsString, Length, Matches } from 'class-validator';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { actorOf, CurrentPrincipal, CurrentRequestId, type Principal } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { Catalog } from '../common/catalog';
import { recordedChange } from '../common/recorded';
import { UuidPipe } from '../common/uuid-pipe';

export class CreateUserDto {
  @ApiProperty({ example: 'alice', pattern: RESOURCE_NAME.source })
  @IsString()
  @Matches(RESOURCE_NAME, { message: `name must be ${RESOURCE_NAME_RULE}` })
  name!: string;

  /** Checked by checkPassword, which names the field and the rule. */
  @Allow()
  @ApiPropertyOptional({
    format: 'password',
    writeOnly: true,
    minLength: PASSWORD_MIN_LENGTH,
    maxLength: PASSWORD_MAX_LENGTH,
    description: 'Lets the user log in (POST /v1/auth/tokens); without one, the user has tokens only',
  })
  password?: unknown;
}

export class SetPasswordDto {
  /** Checked by checkPassword. */
  @Allow()
  @ApiProperty({ format: 'password', writeOnly: true, minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH })
  password!: unknown;

  @ApiPropertyOptional({
    format: 'password',
    writeOnly: true,
    description: "Your current password: required to change your own, not for a cloud admin setting another user's",
  })
  @IsOptional()
  @IsString()
  @Length(1, 1024)
  currentPassword?: string;
}

export class UserView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() createdAt!: Date;

  static of(u: Pick<UserEntity, 'id' | 'name' | 'createdAt'>): UserView {
    return { id: u.id, name: u.name, createdAt: u.createdAt };
  }
}

export class UserList {
  @ApiProperty({ type: [UserView] }) items!: UserView[];
}

/**
 * Users act through tokens: minted for them, or from a password login. A user's role is given per project
 * (PUT /v1/projects/:id/members/:user) and carried by each token.
 */
@ApiTags('users')
@ApiBearerAuth()
@ApiErrors(401)
@Controller('v1/users')
export class UsersController {
  private readonly users: Catalog<UserEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.users = new Catalog(dataSource, UserEntity, 'user');
  }

  @Post()
  @Policy('user:create')
  @ApiOperation({ summary: 'Create a user (admin)' })
  @ApiErrors(400, 403, 409, 413)
  @ApiCreatedResponse({ type: UserView })
  async create(
    @Body() dto: CreateUserDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<UserView> {
    const password = dto.password === undefined ? null : checkPassword(dto.password);
    if (password && !password.ok) throw BerthError.invalid(password.errors);
    const passwordHash = password?.ok ? await hashPassword(password.value) : null;
    return UserView.of(await this.users.create(actorOf(principal, requestId), { name: dto.name, passwordHash }));
  }

  /** A user changes its own password with its current one; a cloud admin sets anyone's (which ends a lock-out). */
  @Put(':id/password')
  @Policy('user:password')
  @HttpCode(204)
  @ApiOperation({ summary: "Set a user's password: your own with your current one, or anyone's as the cloud admin" })
  @ApiErrors(400, 404, 413, 414)
  @ApiNoContentResponse()
  async setPassword(
    @Param('id', UuidPipe) id: string,
    @Body() dto: SetPasswordDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    const self = id === principal.userId;
    if (!self && principal.role !== 'admin') throw BerthError.notFound('user', id);
    if (self && principal.role !== 'admin' && dto.currentPassword === undefined) {
      throw BerthError.invalid([
        {
          field: 'currentPassword',
          rule: 'required',
          message: 'currentPassword is required to change your own password',
        },
      ]);
    }
    const password = dto.password;
    await recordedChange(this.dataSource, actorOf(principal, requestId), 'user.password', 'user', async (m) => {
      await changePassword(m, id, password, principal.role === 'admin' ? undefined : dto.currentPassword);
      return { id };
    });
  }

  /** Its tokens are revoked at once; the instances it made and the audit trail keep its id. */
  @Delete(':id')
  @Policy('user:delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a user (admin): its tokens and memberships end at once' })
  @ApiErrors(400, 403, 404, 409, 414)
  @ApiNoContentResponse()
  async remove(
    @Param('id', UuidPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    await recordedChange(this.dataSource, actorOf(principal, requestId), 'user.delete', 'user', async (m) => {
      await deleteUser(m, id);
      return { id };
    });
  }

  @Get()
  @Policy('user:list')
  @ApiOperation({ summary: 'List users (admin)' })
  @ApiErrors(403)
  @ApiOkResponse({ type: UserList })
  async list(): Promise<UserList> {
    return { items: (await this.users.list()).map((u) => UserView.of(u)) };
  }
}
