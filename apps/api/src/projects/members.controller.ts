import { removeProjectMember, setProjectMember } from '@berth/control';
import { memberRole, ProjectEntity, projectMembers, UserEntity, type MemberRow } from '@berth/data';
import { BerthError, ROLES, type Role } from '@berth/domain';
import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { actorOf, CurrentPrincipal, CurrentRequestId, type Principal } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { recordedChange } from '../common/recorded';
import { findByRef } from '../common/references';
import { UuidPipe } from '../common/uuid-pipe';

export class SetMemberDto {
  @ApiProperty({ enum: ROLES, description: "admin (the cloud admin's role) only in the admin project" })
  @IsIn(ROLES, { message: `role must be one of: ${ROLES.join(', ')}` })
  role!: Role;
}

export class MemberView {
  @ApiProperty({ format: 'uuid' }) projectId!: string;
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty() userName!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty() createdAt!: Date;

  static of(row: MemberRow): MemberView {
    return {
      projectId: row.projectId,
      userId: row.userId,
      userName: row.userName,
      role: row.role,
      createdAt: row.createdAt,
    };
  }
}

export class MemberList {
  @ApiProperty({ type: [MemberView] }) items!: MemberView[];
}

/**
 * A project's members and their roles, which password logins carry into tokens. The cloud admin manages every
 * project's; a project-admin its own project's, and never gives a role above its own.
 */
@ApiTags('projects')
@ApiBearerAuth()
@ApiErrors(401, 403)
@Controller('v1/projects/:id/members')
export class MembersController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  @Policy('project:members')
  @ApiOperation({ summary: "List a project's members and their roles (admin, or the project's project-admin)" })
  @ApiErrors(400, 404, 414)
  @ApiOkResponse({ type: MemberList })
  async list(@Param('id', UuidPipe) id: string, @CurrentPrincipal() principal: Principal): Promise<MemberList> {
    const project = await this.managed(id, principal);
    return { items: (await projectMembers(this.dataSource.manager, project.id)).map((r) => MemberView.of(r)) };
  }

  @Put(':user')
  @Policy('project:members')
  @ApiOperation({ summary: 'Give a user a role in the project (a lower role revokes its tokens there)' })
  @ApiErrors(400, 404, 413, 414)
  @ApiOkResponse({ type: MemberView })
  async set(
    @Param('id', UuidPipe) id: string,
    @Param('user') userRef: string,
    @Body() dto: SetMemberDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<MemberView> {
    const project = await this.managed(id, principal);
    if (principal.role !== 'admin' && dto.role === 'admin') {
      throw BerthError.forbidden('only a cloud admin may make a cloud admin');
    }
    const user = await findByRef(this.dataSource.getRepository(UserEntity), userRef, 'user', 'user');
    await recordedChange(
      this.dataSource,
      { ...actorOf(principal, requestId), projectId: project.id },
      'project.member.set',
      'user',
      async (m) => {
        await setProjectMember(m, project, user.id, dto.role);
        return { id: user.id };
      },
    );
    const member = (await projectMembers(this.dataSource.manager, project.id)).find((r) => r.userId === user.id);
    if (!member) throw BerthError.notFound('member', userRef);
    return MemberView.of(member);
  }

  @Delete(':user')
  @Policy('project:members')
  @HttpCode(204)
  @ApiOperation({ summary: 'Take a user out of the project; its tokens there stop working at once' })
  @ApiErrors(400, 404, 414)
  @ApiNoContentResponse()
  async remove(
    @Param('id', UuidPipe) id: string,
    @Param('user') userRef: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    const project = await this.managed(id, principal);
    const user = await findByRef(this.dataSource.getRepository(UserEntity), userRef, 'user', 'user');
    if (principal.role !== 'admin' && (await memberRole(this.dataSource.manager, project.id, user.id)) === 'admin') {
      throw BerthError.forbidden('only a cloud admin may take a cloud admin out');
    }
    await recordedChange(
      this.dataSource,
      { ...actorOf(principal, requestId), projectId: project.id },
      'project.member.remove',
      'user',
      async (m) => {
        await removeProjectMember(m, project.id, user.id);
        return { id: user.id };
      },
    );
  }

  /** The project, if the caller manages it: the cloud admin any, a project-admin its own (others: 404). */
  private async managed(id: string, principal: Principal): Promise<ProjectEntity> {
    const project = await this.dataSource.getRepository(ProjectEntity).findOneBy({ id });
    if (!project || (principal.role !== 'admin' && principal.projectId !== id))
      throw BerthError.notFound('project', id);
    return project;
  }
}
