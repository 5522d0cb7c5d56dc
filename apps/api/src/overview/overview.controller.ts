import { instanceCounts, refusedPlacements } from '@berth/data';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { ApiErrors } from '../common/api-errors';

class OverviewQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 720, default: 24, description: 'How far back refusals are counted' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(720)
  hours?: number;
}

class InstanceCountView {
  @ApiProperty({ example: 'ACTIVE' }) status!: string;
  @ApiProperty({ enum: ['container', 'vm'] }) kind!: string;
  @ApiProperty() count!: number;
}

class RefusalCountView {
  @ApiProperty({
    example: 'Capacity',
    description: 'The filter that turned down the most hosts; NoHosts: none; Other: not recorded',
  })
  reason!: string;
  @ApiProperty() count!: number;
}

class RefusalsView {
  @ApiProperty() since!: Date;
  @ApiProperty({ description: 'Creates refused for no valid host since then' }) total!: number;
  @ApiProperty({ type: [RefusalCountView], description: 'The most frequent reason first' })
  byReason!: RefusalCountView[];
}

export class OverviewView {
  @ApiProperty({ type: [InstanceCountView], description: 'Instances not deleted, by status and kind' })
  instances!: InstanceCountView[];
  @ApiProperty({ type: RefusalsView }) refusedPlacements!: RefusalsView;
}

/**
 * The figures an operator looks at first, from Berth's own records (an operator without Prometheus sees them too):
 * instances by status, and creates the scheduler refused, by the filter that turned down the most hosts.
 */
@ApiTags('hosts')
@ApiBearerAuth()
@Controller('v1/overview')
export class OverviewController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  @Policy('overview:get')
  @ApiOperation({ summary: 'Instances by status, and creates refused for no valid host by reason (admin)' })
  @ApiErrors(400, 401, 403)
  @ApiOkResponse({ type: OverviewView })
  async get(@Query() query: OverviewQuery): Promise<OverviewView> {
    const since = new Date(Date.now() - (query.hours ?? 24) * 3_600_000);
    const [counts, refused] = await Promise.all([
      instanceCounts(this.dataSource.manager),
      refusedPlacements(this.dataSource.manager, since),
    ]);
    return {
      instances: counts
        .map((c) => ({ status: c.status, kind: c.kind, count: c.n }))
        .sort((a, b) => a.status.localeCompare(b.status) || a.kind.localeCompare(b.kind)),
      refusedPlacements: { since, ...refused },
    };
  }
}
