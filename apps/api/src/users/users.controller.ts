import { UserEntity } from '@berth/data';
import { RESOURCE_NAME, RESOURCE_NAME_RULE } from '@berth/domain';
import { Body, Controller, Get, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { actorOf, CurrentPrincipal, CurrentRequestId, type Principal } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { Catalog } from '../common/catalog';

export class CreateUserDto {
  @ApiProperty({ example: 'alice', pattern: RESOURCE_NAME.source })
  @IsString()
  @Matches(RESOURCE_NAME, { message: `name must be ${RESOURCE_NAME_RULE}` })
  name!: string;
}

export class UserView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() createdAt!: Date;

  static of(u: UserEntity): UserView {
    return { id: u.id, name: u.name, createdAt: u.createdAt };
  }
}

export class UserList {
  @ApiProperty({ type: [UserView] }) items!: UserView[];
}

/** Users act through tokens; a user's role is given per project, on each token. */
@ApiTags('users')
@ApiBearerAuth()
@ApiErrors(401)
@Controller('v1/users')
export class UsersController {
  private readonly users: Catalog<UserEntity>;

  constructor(dataSource: DataSource) {
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
    return UserView.of(await this.users.create(actorOf(principal, requestId), { name: dto.name }));
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
