import { BerthError, LIMIT_ACTIONS, MIGRATION_ACTIONS, type PowerAction } from '@berth/domain';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiTags, ApiOperation } from '@nestjs/swagger';
import { actorOf, CurrentPrincipal, CurrentRequestId, projectScope, type Principal } from '../auth/principal';
import { decodeCursor, toPage } from '../common/pagination';
import { Policy } from '../auth/policy';
import { ApiErrors } from '../common/api-errors';
import { UuidPipe } from '../common/uuid-pipe';
import { ConsoleQuery, StatsQuery, CreateInstanceDto, InstanceActionDto, InstanceQuery } from './instance.dto';
import {
  InstanceStatsView,
  ConsoleView,
  InstanceAccepted,
  InstancePage,
  InstanceView,
  MigrationList,
  MigrationView,
  OperationAccepted,
} from './instance.views';
import { InstancesService } from './instances.service';
import { DeleteInstanceQuery } from './instance-volumes.dto';
import { ApiEnv } from '../config';
import type { Actor, InstanceRecord } from '@berth/data';
import { AttachmentWorkflow, requestSnapshot } from '@berth/control';
import { DataSource } from 'typeorm';

const DEFAULT_PAGE = 100;

/** Instances: created, powered and deleted asynchronously; each change answers 202 with an operation. */
@ApiTags('instances')
@ApiBearerAuth()
@ApiErrors(401)
@Controller('v1/instances')
export class InstancesController {
  constructor(
    private readonly instances: InstancesService,
    private readonly env: ApiEnv,
    private readonly attachments: AttachmentWorkflow,
    private readonly dataSource: DataSource,
  ) {}

  private view(r: InstanceRecord, caller: Principal): InstanceView {
    return InstanceView.of(r, this.env.BERTH_HOST_DOWN_AFTER_SEC, caller);
  }

  @Post()
  @Policy('instance:create')
  @ApiOperation({ summary: 'Create an instance: allocates its address now, builds it asynchronously' })
  @ApiErrors(400, 403, 404, 409, 413)
  @HttpCode(202)
  @ApiAcceptedResponse({ type: InstanceAccepted })
  async create(
    @Body() dto: CreateInstanceDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<InstanceAccepted> {
    const builds = (await this.instances.create(dto, principal, actorOf(principal, requestId))).map((b) => ({
      instance: this.view(b.instance, principal),
      operationId: b.operationId,
    }));
    const [first] = builds;
    if (!first) throw new Error('a create made no instance');
    return { ...first, instances: builds };
  }

  @Get()
  @Policy('instance:list')
  @ApiOperation({ summary: 'List instances, oldest first, a page at a time' })
  @ApiErrors(400)
  @ApiOkResponse({ type: InstancePage })
  async list(@Query() query: InstanceQuery, @CurrentPrincipal() principal: Principal): Promise<InstancePage> {
    const limit = query.limit ?? DEFAULT_PAGE;
    const scope = projectScope(principal) ?? query.project;
    const found = await this.instances.list(scope ?? null, limit + 1, decodeCursor(query.cursor));
    return toPage(found, limit, (r) => this.view(r, principal));
  }

  @Get(':id')
  @Policy('instance:get')
  @ApiOperation({ summary: 'Show an instance' })
  @ApiErrors(400, 404, 414)
  @ApiOkResponse({ type: InstanceView })
  async get(@Param('id', UuidPipe) id: string, @CurrentPrincipal() principal: Principal): Promise<InstanceView> {
    return this.view(await this.instances.get(id, projectScope(principal)), principal);
  }

  /**
   * stop, start or reboot; resize or set-limits live on the instance's host (claimed now: 409 with
   * what is short if the host lacks room). A request that conflicts with the instance's state gets 409.
   */
  @Post(':id/actions')
  @Policy('instance:action')
  @ApiOperation({ summary: 'Stop, start or reboot an instance, or resize it or change its limits live' })
  @ApiErrors(400, 403, 404, 409, 413, 414)
  @HttpCode(202)
  @ApiAcceptedResponse({ type: OperationAccepted })
  async act(
    @Param('id', UuidPipe) id: string,
    @Body() dto: InstanceActionDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<OperationAccepted> {
    const actor = actorOf(principal, requestId);
    if (dto.action === 'snapshot') return this.snapshot(id, dto, principal, actor);
    if (dto.name !== undefined) {
      throw BerthError.invalid([{ field: 'name', rule: 'action', message: `name is not used by ${dto.action}` }]);
    }
    if (dto.action === 'attach' || dto.action === 'detach') return this.volumeAction(id, dto, principal, actor);
    for (const field of ['volume', 'path', 'serial'] as const) {
      if (dto[field] !== undefined) {
        throw BerthError.invalid([{ field, rule: 'action', message: `${field} is not used by ${dto.action}` }]);
      }
    }
    if (dto.action === 'set-security-groups') {
      return { operationId: await this.instances.setSecurityGroups(id, dto.securityGroups, principal, actor) };
    }
    if (dto.action === 'set-port-security') {
      return { operationId: await this.instances.setPortSecurity(id, dto, principal, actor) };
    }
    for (const field of ['securityGroups', 'allowedAddressPairs', 'portSecurity'] as const) {
      if (dto[field] !== undefined) {
        throw BerthError.invalid([{ field, rule: 'action', message: `${field} is not used by ${dto.action}` }]);
      }
    }
    for (const field of ['allowMove', 'verify'] as const) {
      if (dto[field] !== undefined && dto.action !== 'resize') {
        throw BerthError.invalid([{ field, rule: 'action', message: `${field} is not used by ${dto.action}` }]);
      }
    }
    if ((MIGRATION_ACTIONS as readonly string[]).includes(dto.action)) {
      return { operationId: await this.instances.requestMigration(id, dto, principal, actor) };
    }
    if (dto.host !== undefined) {
      throw BerthError.invalid([{ field: 'host', rule: 'action', message: `host is not used by ${dto.action}` }]);
    }
    if ((LIMIT_ACTIONS as readonly string[]).includes(dto.action)) {
      return { operationId: await this.instances.requestLimits(id, dto, principal, actor) };
    }
    if (dto.flavor !== undefined || dto.limits !== undefined) {
      const field = dto.flavor !== undefined ? 'flavor' : 'limits';
      throw BerthError.invalid([{ field, rule: 'action', message: `${field} is not used by ${dto.action}` }]);
    }
    const operationId = await this.instances.request(id, projectScope(principal), dto.action as PowerAction, actor);
    return { operationId };
  }

  /** The instance's cold migrations, newest first, with where each stands or failed. */
  @Get(':id/migrations')
  @Policy('instance:migrations')
  @ApiOperation({ summary: "An instance's migrations (admin)" })
  @ApiErrors(400, 403, 404, 414)
  @ApiOkResponse({ type: MigrationList })
  async migrations(
    @Param('id', UuidPipe) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<MigrationList> {
    return { items: (await this.instances.migrations(id, principal)).map((m) => MigrationView.of(m)) };
  }

  /** A container's output or a VM's serial console, read on its host when asked. */
  @Get(':id/console')
  @Policy('instance:get')
  @ApiOperation({ summary: "The last lines of an instance's console (a container's output, a VM's serial console)" })
  @ApiErrors(400, 404, 409, 414, 503)
  @ApiOkResponse({ type: ConsoleView })
  async console(
    @Param('id', UuidPipe) id: string,
    @Query() query: ConsoleQuery,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ConsoleView> {
    return { lines: await this.instances.console(id, projectScope(principal), query.lines ?? 100) };
  }

  /**
   * Usage read on the instance's host: its cgroup (or domain) and its port, not the host's. Totals
   * are since the instance started; rates are over `interval` seconds, which the answer waits for.
   */
  @Get(':id/stats')
  @Policy('instance:get')
  @ApiOperation({ summary: "An instance's CPU %, memory, network and block IO rates, read on its host" })
  @ApiErrors(400, 404, 409, 414, 503)
  @ApiOkResponse({ type: InstanceStatsView })
  async stats(
    @Param('id', UuidPipe) id: string,
    @Query() query: StatsQuery,
    @CurrentPrincipal() principal: Principal,
  ): Promise<InstanceStatsView> {
    return this.instances.stats(id, projectScope(principal), query.interval ?? 1);
  }

  /** Once the operation succeeds the instance answers 404 and its address and capacity are free. */
  /** A new private image of the instance, named `name`; its operation ends when the image is launchable. */
  private async snapshot(
    id: string,
    dto: InstanceActionDto,
    principal: Principal,
    actor: Actor,
  ): Promise<OperationAccepted> {
    if (dto.name === undefined) {
      throw BerthError.invalid([{ field: 'name', rule: 'required', message: 'name is required by snapshot' }]);
    }
    const { action: _action, name: _name, ...rest } = dto;
    const extra = Object.entries(rest).find(([, v]) => v !== undefined)?.[0];
    if (extra)
      throw BerthError.invalid([{ field: extra, rule: 'action', message: `${extra} is not used by snapshot` }]);
    const request = { instanceId: id, projectId: projectScope(principal), name: dto.name, actor };
    return requestSnapshot(this.dataSource, this.env.BERTH_SNAPSHOT_REGISTRY, request);
  }

  /** attach and detach: a volume of the instance's project, on its host. */
  private async volumeAction(
    id: string,
    dto: InstanceActionDto,
    principal: Principal,
    actor: Actor,
  ): Promise<OperationAccepted> {
    if (dto.volume === undefined) {
      throw BerthError.invalid([{ field: 'volume', rule: 'required', message: `volume is required by ${dto.action}` }]);
    }
    const volume = dto.volume.toLowerCase();
    if (dto.action === 'detach') {
      for (const field of ['path', 'serial'] as const) {
        if (dto[field] !== undefined) {
          throw BerthError.invalid([{ field, rule: 'action', message: `${field} is not used by detach` }]);
        }
      }
      return { operationId: await this.attachments.detach(actor, id, projectScope(principal), volume) };
    }
    const where = {
      ...(dto.path === undefined ? {} : { path: dto.path }),
      ...(dto.serial === undefined ? {} : { serial: dto.serial }),
    };
    return { operationId: await this.attachments.attach(actor, id, projectScope(principal), { volume, ...where }) };
  }

  @Delete(':id')
  @Policy('instance:delete')
  @ApiOperation({
    summary:
      'Delete an instance and free its address and capacity; its volumes stay, available with their data, ' +
      'unless deleteVolumes (or deleteOnTermination when it was built with them)',
  })
  @ApiErrors(400, 403, 404, 409, 414)
  @HttpCode(202)
  @ApiAcceptedResponse({ type: OperationAccepted })
  async remove(
    @Param('id', UuidPipe) id: string,
    @Query() query: DeleteInstanceQuery,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<OperationAccepted> {
    const operationId = await this.instances.request(
      id,
      projectScope(principal),
      'delete',
      actorOf(principal, requestId),
      { deleteVolumes: query.deleteVolumes === 'true' },
    );
    return { operationId };
  }
}
