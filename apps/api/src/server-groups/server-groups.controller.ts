import {
  deleteServerGroup,
  insertServerGroup,
  serverGroupRow,
  serverGroupRows,
  type ServerGroupRow,
} from '@berth/data';
import { BerthError, GROUP_POLICIES, RESOURCE_NAME, RESOURCE_NAME_RULE, type GroupPolicy } from '@berth/domain';
import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
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
import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { actorOf, CurrentPrincipal, CurrentRequestId, projectScope, type Principal } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { targetProject } from '../common/projects';
import { recordedChange } from '../common/recorded';
import { UuidPipe } from '../common/uuid-pipe';

export class CreateServerGroupDto {
  @ApiProperty({ example: 'web', pattern: RESOURCE_NAME.source })
  @IsString()
  @Matches(RESOURCE_NAME, { message: `name must be ${RESOURCE_NAME_RULE}` })
  name!: string;

  @ApiProperty({ enum: GROUP_POLICIES, description: 'Hard policies refuse a host; soft ones only prefer' })
  @IsIn(GROUP_POLICIES, { message: `policy must be one of: ${GROUP_POLICIES.join(', ')}` })
  policy!: GroupPolicy;

  @ApiPropertyOptional({ description: "Project id or name (cloud admin only; default: the token's project)" })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  project?: string;
}

class Member {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ nullable: true, type: String }) host!: string | null;
}

export class ServerGroupView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: GROUP_POLICIES }) policy!: GroupPolicy;
  @ApiProperty({ format: 'uuid' }) projectId!: string;
  @ApiProperty({ type: [Member] }) members!: Member[];
  @ApiProperty() createdAt!: Date;
}

export class ServerGroupList {
  @ApiProperty({ type: [ServerGroupView] }) items!: ServerGroupView[];
}

/** Field by field: the row is the data library's, the answer this view's. */
const serverGroupView = (g: ServerGroupRow): ServerGroupView => ({
  id: g.id,
  name: g.name,
  policy: g.policy,
  projectId: g.projectId,
  members: g.members.map((m) => ({ id: m.id, name: m.name, host: m.host })),
  createdAt: g.createdAt,
});

/** Server groups place their members together (affinity) or apart (anti-affinity). */
@ApiTags('server-groups')
@ApiBearerAuth()
@ApiErrors(401)
@Controller('v1/server-groups')
export class ServerGroupsController {
  constructor(private readonly dataSource: DataSource) {}

  @Post()
  @Policy('server-group:create')
  @ApiOperation({ summary: 'Create a server group; instances join it when they are created' })
  @ApiErrors(400, 403, 404, 409, 413)
  @ApiCreatedResponse({ type: ServerGroupView })
  async create(
    @Body() dto: CreateServerGroupDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<ServerGroupView> {
    const projectId = await targetProject(this.dataSource, principal, dto.project);
    const group = await recordedChange(
      this.dataSource,
      { ...actorOf(principal, requestId), projectId },
      'server-group.create',
      'server-group',
      async (m) => ({ id: await insertServerGroup(m, { name: dto.name, policy: dto.policy, projectId }) }),
    );
    return this.get(group.id, principal);
  }

  @Get()
  @Policy('server-group:list')
  @ApiOperation({ summary: "List the project's server groups (admin: all)" })
  @ApiOkResponse({ type: ServerGroupList })
  async list(@CurrentPrincipal() principal: Principal): Promise<ServerGroupList> {
    return {
      items: (await serverGroupRows(this.dataSource.manager, projectScope(principal))).map(serverGroupView),
    };
  }

  @Get(':id')
  @Policy('server-group:get')
  @ApiOperation({ summary: 'Show a server group and where its members run' })
  @ApiErrors(400, 404, 414)
  @ApiOkResponse({ type: ServerGroupView })
  async get(@Param('id', UuidPipe) id: string, @CurrentPrincipal() principal: Principal): Promise<ServerGroupView> {
    const group = await serverGroupRow(this.dataSource.manager, id, projectScope(principal));
    if (!group) throw BerthError.notFound('server group', id);
    return serverGroupView(group);
  }

  /** Its members keep running; they simply belong to no group any more. */
  @Delete(':id')
  @Policy('server-group:delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a server group' })
  @ApiErrors(400, 403, 404, 414)
  @ApiNoContentResponse()
  async remove(
    @Param('id', UuidPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    const group = await this.get(id, principal);
    await recordedChange(
      this.dataSource,
      { ...actorOf(principal, requestId), projectId: group.projectId },
      'server-group.delete',
      'server-group',
      async (m) => {
        await deleteServerGroup(m, id);
        return group;
      },
    );
  }
}
