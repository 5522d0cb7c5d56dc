import { deleteProject } from '@berth/control';
import { ProjectEntity, projectQuota, setProjectQuota } from '@berth/data';
import { BerthError, QUOTA_RESOURCES } from '@berth/domain';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
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
import { actorOf, CurrentPrincipal, CurrentRequestId, projectScope, type Principal } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { Catalog } from '../common/catalog';
import { recordedChange } from '../common/recorded';
import { UuidPipe } from '../common/uuid-pipe';
import { ApiEnv } from '../config';
import { CreateProjectDto, ProjectList, ProjectView, QuotaView, UpdateQuotasDto } from './project.dto';

/** Projects are the tenants. The cloud admin creates them and sets their quotas. */
@ApiTags('projects')
@ApiBearerAuth()
@ApiErrors(401)
@Controller('v1/projects')
export class ProjectsController {
  private readonly projects: Catalog<ProjectEntity>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly env: ApiEnv,
  ) {
    this.projects = new Catalog(dataSource, ProjectEntity, 'project');
  }

  @Post()
  @Policy('project:create')
  @ApiOperation({ summary: 'Create a project (admin)' })
  @ApiErrors(400, 403, 409, 413)
  @ApiCreatedResponse({ type: ProjectView })
  async create(
    @Body() dto: CreateProjectDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<ProjectView> {
    return ProjectView.of(await this.projects.create(actorOf(principal, requestId), { name: dto.name }));
  }

  /** Keystone's "projects available to this token": a tenant's token sees its own project, so it can name it. */
  @Get()
  @Policy('project:list')
  @ApiOperation({ summary: "List projects: the admin all, others their token's project" })
  @ApiOkResponse({ type: ProjectList })
  async list(@CurrentPrincipal() principal: Principal): Promise<ProjectList> {
    const scope = projectScope(principal);
    const all = await this.projects.list();
    return { items: all.filter((p) => scope === null || p.id === scope).map((p) => ProjectView.of(p)) };
  }

  @Get(':id')
  @Policy('project:get')
  @ApiOperation({ summary: "Show a project: the admin any, others their token's project" })
  @ApiErrors(400, 404, 414)
  @ApiOkResponse({ type: ProjectView })
  async get(@Param('id', UuidPipe) id: string, @CurrentPrincipal() principal: Principal): Promise<ProjectView> {
    return ProjectView.of(await this.visible(id, principal));
  }

  /**
   * Only an empty project goes (409 inUse while it holds instances or active reservations); its tokens, members,
   * images and groups go with it, and its deleted instances and audit trail keep its id.
   */
  @Delete(':id')
  @Policy('project:delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an empty project (admin): its tokens, members, images and groups go with it' })
  @ApiErrors(400, 403, 404, 409, 414)
  @ApiNoContentResponse()
  async remove(
    @Param('id', UuidPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    const project = await this.visible(id, principal);
    await recordedChange(this.dataSource, actorOf(principal, requestId), 'project.delete', 'project', async (m) => {
      await deleteProject(m, project);
      return { id };
    });
  }

  @Get(':id/quotas')
  @Policy('quota:get')
  @ApiOperation({ summary: "A project's quota limits and what it uses now" })
  @ApiErrors(400, 404, 414)
  @ApiOkResponse({ type: QuotaView })
  async quotas(@Param('id', UuidPipe) id: string, @CurrentPrincipal() principal: Principal): Promise<QuotaView> {
    await this.visible(id, principal);
    const quota = await projectQuota(this.dataSource.manager, id, this.env.quotaDefaults);
    if (!quota) throw BerthError.notFound('project', id);
    return QuotaView.of(quota.limits, quota.usage);
  }

  /** A limit below current use is accepted: nothing is removed, further creates are refused. */
  @Put(':id/quotas')
  @Policy('quota:update')
  @ApiOperation({ summary: "Set a project's quota limits (admin)" })
  @ApiErrors(400, 403, 404, 413, 414)
  @ApiOkResponse({ type: QuotaView })
  async setQuotas(
    @Param('id', UuidPipe) id: string,
    @Body() dto: UpdateQuotasDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<QuotaView> {
    const changes = QUOTA_RESOURCES.filter((k) => dto[k] !== undefined);
    if (changes.length === 0) {
      throw BerthError.invalid([
        { field: 'body', rule: 'notEmpty', message: 'name at least one of instances, vcpus, ramMb, diskGb, ips' },
      ]);
    }
    const quota = await recordedChange(
      this.dataSource,
      { ...actorOf(principal, requestId), projectId: id },
      'quota.update',
      'project',
      async (m) => {
        const change = Object.fromEntries(changes.map((k) => [k, dto[k]]));
        if (!(await setProjectQuota(m, id, change))) throw BerthError.notFound('project', id);
        const result = await projectQuota(m, id, this.env.quotaDefaults);
        if (!result) throw BerthError.notFound('project', id);
        return { id, ...result };
      },
    );
    return QuotaView.of(quota.limits, quota.usage);
  }

  private async visible(id: string, principal: Principal): Promise<ProjectEntity> {
    const scope = projectScope(principal);
    const project = await this.dataSource.getRepository(ProjectEntity).findOneBy({ id });
    if (!project || (scope !== null && scope !== id)) throw BerthError.notFound('project', id);
    return project;
  }
}
