import {
  aggregateRow,
  aggregateRows,
  deleteAggregate,
  hostNames,
  insertAggregate,
  setAggregateHosts,
  setAggregateMetadata,
  type AggregateRow,
} from '@berth/data';
import { BerthError, isUuid, RESOURCE_NAME, RESOURCE_NAME_RULE } from '@berth/domain';
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
import { ArrayMaxSize, IsArray, IsOptional, IsString, Length, Matches } from 'class-validator';
import { DataSource, type EntityManager } from 'typeorm';
import { Policy } from '../auth/policy';
import { actorOf, CurrentPrincipal, CurrentRequestId, type Principal } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { recordedChange } from '../common/recorded';
import { IsStringMap } from '../common/string-map';
import { UuidPipe } from '../common/uuid-pipe';

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

export class UpdateAggregateDto {
  @ApiPropertyOptional({
    ...stringMap,
    example: { disk: 'ssd' },
    description: 'Matched by flavor extra specs aggregate:<key>=<value>',
  })
  @IsOptional()
  @IsStringMap()
  metadata?: Record<string, string>;

  @ApiPropertyOptional({ type: [String], description: 'Host names or ids; replaces the members' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10_000)
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  hosts?: string[];
}

export class CreateAggregateDto extends UpdateAggregateDto {
  @ApiProperty({ example: 'ssd-hosts', pattern: RESOURCE_NAME.source })
  @IsString()
  @Matches(RESOURCE_NAME, { message: `name must be ${RESOURCE_NAME_RULE}` })
  name!: string;
}

export class AggregateView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty(stringMap) metadata!: Record<string, string>;
  @ApiProperty({ type: [String], description: 'Member host names' }) hosts!: string[];
  @ApiProperty() createdAt!: Date;
}

export class AggregateList {
  @ApiProperty({ type: [AggregateView] }) items!: AggregateView[];
}

/** Field by field: the row is the data library's, the answer this view's. */
const aggregateView = (a: AggregateRow): AggregateView => ({
  id: a.id,
  name: a.name,
  metadata: a.metadata,
  hosts: a.hosts,
  createdAt: a.createdAt,
});

/** Aggregates group hosts and give them metadata that flavors can ask for (Nova's host aggregates). */
@ApiTags('aggregates')
@ApiBearerAuth()
@ApiErrors(401, 403)
@Controller('v1/aggregates')
export class AggregatesController {
  constructor(private readonly dataSource: DataSource) {}

  @Post()
  @Policy('aggregate:create')
  @ApiOperation({ summary: 'Create an aggregate (admin)' })
  @ApiErrors(400, 404, 409, 413)
  @ApiCreatedResponse({ type: AggregateView })
  async create(
    @Body() dto: CreateAggregateDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<AggregateView> {
    const created = await recordedChange(
      this.dataSource,
      actorOf(principal, requestId),
      'aggregate.create',
      'aggregate',
      async (m) => {
        const id = await insertAggregate(m, { name: dto.name, metadata: dto.metadata ?? {} });
        if (dto.hosts) await setMembers(m, id, dto.hosts);
        return { id };
      },
    );
    return this.get(created.id);
  }

  @Get()
  @Policy('aggregate:list')
  @ApiOperation({ summary: 'List aggregates (admin)' })
  @ApiOkResponse({ type: AggregateList })
  async list(): Promise<AggregateList> {
    return { items: (await aggregateRows(this.dataSource.manager)).map(aggregateView) };
  }

  @Get(':id')
  @Policy('aggregate:get')
  @ApiOperation({ summary: 'Show an aggregate (admin)' })
  @ApiErrors(400, 404, 414)
  @ApiOkResponse({ type: AggregateView })
  async get(@Param('id', UuidPipe) id: string): Promise<AggregateView> {
    const found = await aggregateRow(this.dataSource.manager, id);
    if (!found) throw BerthError.notFound('aggregate', id);
    return aggregateView(found);
  }

  @Put(':id')
  @Policy('aggregate:update')
  @ApiOperation({ summary: "Replace an aggregate's metadata and/or its hosts (admin)" })
  @ApiErrors(400, 404, 413, 414)
  @ApiOkResponse({ type: AggregateView })
  async update(
    @Param('id', UuidPipe) id: string,
    @Body() dto: UpdateAggregateDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<AggregateView> {
    await recordedChange(this.dataSource, actorOf(principal, requestId), 'aggregate.update', 'aggregate', async (m) => {
      const found = await aggregateRow(m, id);
      if (!found) throw BerthError.notFound('aggregate', id);
      if (dto.metadata) await setAggregateMetadata(m, id, dto.metadata);
      if (dto.hosts) await setMembers(m, id, dto.hosts);
      return found;
    });
    return this.get(id);
  }

  @Delete(':id')
  @Policy('aggregate:delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an aggregate; its hosts stay (admin)' })
  @ApiErrors(400, 404, 414)
  @ApiNoContentResponse()
  async remove(
    @Param('id', UuidPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    await recordedChange(this.dataSource, actorOf(principal, requestId), 'aggregate.delete', 'aggregate', async (m) => {
      if (!(await deleteAggregate(m, id))) throw BerthError.notFound('aggregate', id);
      return { id };
    });
  }
}

/** Makes `refs` (host names or ids) the aggregate's members; an unknown host is a 404 naming it. */
async function setMembers(m: EntityManager, aggregateId: string, refs: string[]): Promise<void> {
  const hosts = await hostNames(m);
  const ids = refs.map((ref) => {
    const host = hosts.find((h) => (isUuid(ref) ? h.id === ref.toLowerCase() : h.name === ref));
    if (!host) throw BerthError.notFound('host', ref, 'hosts');
    return host.id;
  });
  await setAggregateHosts(m, aggregateId, ids);
}
