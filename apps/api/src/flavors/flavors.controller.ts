import { FlavorEntity } from '@berth/data';
import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiOperation,
} from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { actorOf, CurrentPrincipal, CurrentRequestId, type Principal } from '../auth/principal';
import { Catalog } from '../common/catalog';
import { Policy } from '../auth/policy';
import { ApiErrors } from '../common/api-errors';
import { UuidPipe } from '../common/uuid-pipe';
import { CreateFlavorDto, FlavorList, FlavorView, throttlesOf } from './flavor.dto';
import { ApiEnv } from '../config';
import { BerthError, checkBounds, flavorThrottles } from '@berth/domain';

/** Flavors are cloud-wide sizes: everyone reads them, the cloud admin writes them. */
@ApiTags('flavors')
@ApiBearerAuth()
@ApiErrors(401)
@Controller('v1/flavors')
export class FlavorsController {
  private readonly catalog: Catalog<FlavorEntity>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly env: ApiEnv,
  ) {
    this.catalog = new Catalog(dataSource, FlavorEntity, 'flavor');
  }

  @Post()
  @Policy('flavor:create')
  @ApiOperation({ summary: 'Create a flavor (admin)' })
  @ApiErrors(400, 403, 409, 413)
  @ApiCreatedResponse({ type: FlavorView })
  async create(
    @Body() dto: CreateFlavorDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<FlavorView> {
    const throttles = throttlesOf(dto);
    const cpuPolicy = dto.cpuPolicy ?? 'shared';
    const limitBounds = dto.limitBounds ?? {};
    const errors = checkBounds(limitBounds, flavorThrottles(throttles, this.env.BERTH_DEFAULT_PIDS_LIMIT));
    if (cpuPolicy === 'dedicated' && throttles.cpuQuota !== null) {
      errors.push({
        field: 'cpuQuota',
        rule: 'cpuPolicy',
        message: 'cpuQuota applies to shared CPUs; a dedicated instance owns whole CPUs',
      });
    }
    if (errors.length > 0) throw BerthError.invalid(errors);
    return FlavorView.of(
      await this.catalog.create(actorOf(principal, requestId), {
        name: dto.name,
        vcpus: dto.vcpus,
        ramMb: dto.ramMb,
        diskGb: dto.diskGb,
        extraSpecs: dto.extraSpecs ?? {},
        cpuPolicy,
        throttles,
        limitBounds,
      }),
    );
  }

  @Get()
  @Policy('flavor:list')
  @ApiOperation({ summary: 'List flavors' })
  @ApiOkResponse({ type: FlavorList })
  async list(): Promise<FlavorList> {
    return { items: (await this.catalog.list()).map((f) => FlavorView.of(f)) };
  }

  @Get(':id')
  @Policy('flavor:get')
  @ApiOperation({ summary: 'Show a flavor' })
  @ApiErrors(400, 404, 414)
  @ApiOkResponse({ type: FlavorView })
  async get(@Param('id', UuidPipe) id: string): Promise<FlavorView> {
    return FlavorView.of(await this.catalog.get(id));
  }

  /** Instances keep the sizes they were built with; deleting a flavor never changes them. */
  @Delete(':id')
  @Policy('flavor:delete')
  @ApiOperation({ summary: 'Delete a flavor (admin); instances keep their sizes' })
  @ApiErrors(400, 403, 404, 414)
  @HttpCode(204)
  @ApiNoContentResponse()
  async remove(
    @Param('id', UuidPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    await this.catalog.remove(actorOf(principal, requestId), id);
  }
}
