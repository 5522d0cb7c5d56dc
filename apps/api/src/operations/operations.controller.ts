import { operationRow, operationRows, type OperationRow } from '@berth/data';
import { BerthError, OPERATION_STATUSES, STEP_STATUSES, type OperationStatus, type StepStatus } from '@berth/domain';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags, ApiOperation } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { CurrentPrincipal, projectScope, type Principal } from '../auth/principal';
import { Policy } from '../auth/policy';
import { ApiErrors } from '../common/api-errors';
import { decodeCursor, PageQuery, toPage } from '../common/pagination';
import { UuidPipe } from '../common/uuid-pipe';
import { IsIn, IsISO8601, IsOptional, IsUUID, Matches } from 'class-validator';

class StepView {
  @ApiProperty() name!: string;
  @ApiProperty({
    enum: STEP_STATUSES,
    description: 'pending: created ahead, not started yet (a step per host of a pre-warm, per instance of a drain)',
  })
  status!: StepStatus;
  @ApiProperty() startedAt!: string;
  @ApiPropertyOptional() finishedAt?: string;
  @ApiPropertyOptional() detail?: string;
}

class OperationFault {
  @ApiProperty() step!: string;
  @ApiProperty() message!: string;
  @ApiProperty() at!: string;
}

export class OperationQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'Admin: one project. Others always see their own project only' })
  @IsOptional()
  @IsUUID('all', { message: 'project must be a UUID' })
  project?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('all', { message: 'user must be a UUID' })
  user?: string;

  @ApiPropertyOptional({ example: 'instance.delete' })
  @IsOptional()
  @Matches(/^[a-z-]+(\.[a-z-]+)?$/, { message: 'action must look like instance.delete' })
  action?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'The resource acted on' })
  @IsOptional()
  @IsUUID('all', { message: 'target must be a UUID' })
  target?: string;

  @ApiPropertyOptional({ enum: OPERATION_STATUSES })
  @IsOptional()
  @IsIn(OPERATION_STATUSES, { message: `status must be one of: ${OPERATION_STATUSES.join(', ')}` })
  status?: OperationStatus;

  @ApiPropertyOptional({ example: '2026-11-22T00:00:00Z', description: 'Started at or after' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'since must be an ISO 8601 date-time' })
  since?: string;

  @ApiPropertyOptional({ example: '2026-11-23T00:00:00Z', description: 'Started before' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'until must be an ISO 8601 date-time' })
  until?: string;
}

export class OperationView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'instance.create' }) action!: string;
  @ApiProperty({ enum: OPERATION_STATUSES }) status!: OperationStatus;
  @ApiProperty({ example: 'instance' }) targetType!: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) targetId!: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) projectId!: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) userId!: string | null;
  @ApiProperty({ nullable: true, type: String }) requestId!: string | null;
  @ApiProperty({ type: [StepView] }) steps!: StepView[];
  @ApiProperty({ type: OperationFault, nullable: true }) fault!: OperationFault | null;
  @ApiProperty() startedAt!: Date;
  @ApiProperty() updatedAt!: Date;
  @ApiProperty({ nullable: true, type: Date }) finishedAt!: Date | null;
}

export class OperationPage {
  @ApiProperty({ type: [OperationView] }) items!: OperationView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

/** Field by field: the row is the data library's, the answer this view's. */
function operationView(o: OperationRow): OperationView {
  return {
    id: o.id,
    action: o.action,
    status: o.status,
    targetType: o.targetType,
    targetId: o.targetId,
    projectId: o.projectId,
    userId: o.userId,
    requestId: o.requestId,
    steps: o.steps,
    fault: o.fault,
    startedAt: o.startedAt,
    updatedAt: o.updatedAt,
    finishedAt: o.finishedAt,
  };
}

/** Operations: what a client polls after a 202, and the audit trail of every change. */
@ApiTags('operations')
@ApiBearerAuth()
@ApiErrors(401)
@Controller('v1/operations')
export class OperationsController {
  constructor(private readonly dataSource: DataSource) {}

  /** The audit trail: who did what to which resource, when, and whether it worked. Newest first. */
  @Get()
  @Policy('operation:list')
  @ApiOperation({
    summary: 'The audit trail, newest first, filtered by project, user, action, target, status and time',
  })
  @ApiErrors(400)
  @ApiOkResponse({ type: OperationPage })
  async list(@Query() query: OperationQuery, @CurrentPrincipal() principal: Principal): Promise<OperationPage> {
    const scope = projectScope(principal) ?? query.project ?? null;
    const limit = query.limit ?? 100;
    const found = await operationRows(
      this.dataSource.manager,
      {
        projectId: scope,
        userId: query.user,
        action: query.action,
        targetId: query.target,
        status: query.status,
        since: query.since,
        until: query.until,
      },
      { limit: limit + 1, afterId: decodeCursor(query.cursor) ?? null },
    );
    return toPage(found, limit, operationView);
  }

  @Get(':id')
  @Policy('operation:get')
  @ApiOperation({ summary: 'Show an operation: status, steps and fault' })
  @ApiErrors(400, 404, 414)
  @ApiOkResponse({ type: OperationView })
  async get(@Param('id', UuidPipe) id: string, @CurrentPrincipal() principal: Principal): Promise<OperationView> {
    const scope = projectScope(principal);
    const op = await operationRow(this.dataSource.manager, id, scope);
    if (!op) throw BerthError.notFound('operation', id);
    return operationView(op);
  }
}
