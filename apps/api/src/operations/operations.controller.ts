import { OperationEntity } from '@berth/db';
import { BerthError, OPERATION_STATUSES, type OperationStatus } from '@berth/domain';
import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags, ApiOperation } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { CurrentPrincipal, projectScope, type Principal } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { UuidPipe } from '../common/uuid-pipe';

class StepView {
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['running', 'succeeded', 'failed'] }) status!: string;
  @ApiProperty() startedAt!: string;
  @ApiPropertyOptional() finishedAt?: string;
  @ApiPropertyOptional() detail?: string;
}

class OperationFault {
  @ApiProperty() step!: string;
  @ApiProperty() message!: string;
  @ApiProperty() at!: string;
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

/** Operations: what a client polls after a 202, and the audit trail of every change. */
@ApiTags('operations')
@ApiBearerAuth()
@ApiErrors(401)
@Controller('v1/operations')
export class OperationsController {
  constructor(private readonly dataSource: DataSource) {}

  @Get(':id')
  @ApiOperation({ summary: 'Show an operation: status, steps and fault' })
  @ApiErrors(400, 404)
  @ApiOkResponse({ type: OperationView })
  async get(@Param('id', UuidPipe) id: string, @CurrentPrincipal() principal: Principal): Promise<OperationView> {
    const scope = projectScope(principal);
    const op = await this.dataSource
      .getRepository(OperationEntity)
      .findOneBy(scope === null ? { id } : { id, projectId: scope });
    if (!op) throw BerthError.notFound('operation', id);
    return { ...op };
  }
}
