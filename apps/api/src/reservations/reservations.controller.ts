import { INSTANCE_KINDS, type InstanceKind } from '@berth/contracts';
import { policyOptionsOf, ReservationWorkflow } from '@berth/control';
import { type ReservationRecord, FlavorEntity } from '@berth/data';
import { BerthError, schedulerPolicy } from '@berth/domain';
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
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { actorOf, CurrentPrincipal, CurrentRequestId, projectScope, type Principal } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { targetProject } from '../common/projects';
import { findByRef } from '../common/references';
import { UuidPipe } from '../common/uuid-pipe';
import { ApiEnv } from '../config';

export class CreateReservationDto {
  @ApiProperty({ example: 'm1.small', description: 'Flavor id or name' })
  @IsString()
  @Length(1, 64)
  flavor!: string;

  @ApiProperty({ minimum: 1, maximum: 10_000 })
  @IsInt()
  @Min(1)
  @Max(10_000)
  count!: number;

  @ApiPropertyOptional({ enum: INSTANCE_KINDS, default: 'container' })
  @IsOptional()
  @IsIn(INSTANCE_KINDS, { message: `kind must be one of: ${INSTANCE_KINDS.join(', ')}` })
  kind?: InstanceKind;

  @ApiPropertyOptional({ example: 'zone-a' })
  @IsOptional()
  @IsString()
  @Length(1, 63)
  zone?: string;

  @ApiPropertyOptional({ description: 'Only this project may draw on it (id or name); default: any project' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  project?: string;

  @ApiPropertyOptional({ example: '2026-11-27T00:00:00Z', description: 'When draws may start (default: now)' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'startsAt must be an ISO 8601 date-time' })
  startsAt?: string;

  @ApiProperty({ example: '2026-11-28T06:00:00Z', description: 'When the slots not drawn are released' })
  @IsISO8601({ strict: true }, { message: 'endsAt must be an ISO 8601 date-time' })
  endsAt!: string;
}

class FreeSlots {
  @ApiProperty() host!: string;
  @ApiProperty() slots!: number;
}

export class ReservationView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) projectId!: string | null;
  @ApiProperty() flavor!: string;
  @ApiProperty({ enum: INSTANCE_KINDS }) kind!: InstanceKind;
  @ApiProperty({ nullable: true, type: String }) zone!: string | null;
  @ApiProperty() count!: number;
  @ApiProperty({ description: 'Slots not drawn yet' }) free!: number;
  @ApiProperty({ type: [FreeSlots] }) slots!: FreeSlots[];
  @ApiProperty() startsAt!: Date;
  @ApiProperty() endsAt!: Date;
  @ApiProperty({ enum: ['active', 'released'] }) status!: string;
  @ApiProperty() createdAt!: Date;

  static of(r: ReservationRecord): ReservationView {
    return {
      id: r.id,
      projectId: r.projectId,
      flavor: r.flavorName,
      kind: r.kind,
      zone: r.zone,
      count: r.count,
      free: r.free.reduce((sum, s) => sum + s.slots, 0),
      slots: r.free,
      startsAt: r.startsAt,
      endsAt: r.endsAt,
      status: r.status,
      createdAt: r.createdAt,
    };
  }
}

export class ReservationList {
  @ApiProperty({ type: [ReservationView] }) items!: ReservationView[];
}

/**
 * Capacity held for a peak: claimed now so no other request can take it, drawn on by creates that
 * name the reservation, and released when its window ends.
 */
@ApiTags('reservations')
@ApiBearerAuth()
@ApiErrors(401)
@Controller('v1/reservations')
export class ReservationsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly reservations: ReservationWorkflow,
    private readonly env: ApiEnv,
  ) {}

  @Post()
  @Policy('reservation:create')
  @ApiOperation({ summary: 'Reserve capacity for N instances of a flavor for a window (admin); all or nothing' })
  @ApiErrors(400, 403, 404, 409, 413)
  @ApiCreatedResponse({ type: ReservationView })
  async create(
    @Body() dto: CreateReservationDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<ReservationView> {
    const startsAt = dto.startsAt ? new Date(dto.startsAt) : new Date();
    const endsAt = new Date(dto.endsAt);
    if (endsAt.getTime() <= Math.max(startsAt.getTime(), Date.now())) {
      throw BerthError.invalid([
        { field: 'endsAt', rule: 'after', message: 'endsAt must be after startsAt and in the future' },
      ]);
    }
    const flavor = await findByRef(this.dataSource.getRepository(FlavorEntity), dto.flavor, 'flavor', 'flavor');
    const projectId = dto.project === undefined ? null : await targetProject(this.dataSource, principal, dto.project);
    const created = await this.reservations.create(
      {
        actor: actorOf(principal, requestId),
        projectId,
        flavor,
        kind: dto.kind ?? 'container',
        pidsLimit: flavor.throttles.pidsLimit ?? this.env.BERTH_DEFAULT_PIDS_LIMIT,
        count: dto.count,
        zone: dto.zone ?? null,
        startsAt,
        endsAt,
      },
      schedulerPolicy(policyOptionsOf(this.env)),
    );
    return ReservationView.of(created);
  }

  @Get()
  @Policy('reservation:list')
  @ApiOperation({ summary: "List reservations (admin: all; others: their project's and those for any project)" })
  @ApiOkResponse({ type: ReservationList })
  async list(@CurrentPrincipal() principal: Principal): Promise<ReservationList> {
    const visible = await this.reservations.list(projectScope(principal));
    return { items: visible.map((r) => ReservationView.of(r)) };
  }

  @Get(':id')
  @Policy('reservation:get')
  @ApiOperation({ summary: 'Show a reservation and its slots not drawn yet' })
  @ApiErrors(400, 404, 414)
  @ApiOkResponse({ type: ReservationView })
  async get(@Param('id', UuidPipe) id: string, @CurrentPrincipal() principal: Principal): Promise<ReservationView> {
    const found = await this.reservations.get(id, projectScope(principal));
    if (!found) throw BerthError.notFound('reservation', id);
    return ReservationView.of(found);
  }

  @Delete(':id')
  @Policy('reservation:delete')
  @HttpCode(204)
  @ApiOperation({ summary: 'Release a reservation now; instances drawn from it keep running (admin)' })
  @ApiErrors(400, 403, 404, 414)
  @ApiNoContentResponse()
  async release(
    @Param('id', UuidPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<void> {
    const found = await this.reservations.get(id, null);
    if (!found) throw BerthError.notFound('reservation', id);
    await this.reservations.release(id, actorOf(principal, requestId));
  }
}
