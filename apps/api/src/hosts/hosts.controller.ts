import { MigrationWorkflow } from '@berth/control';
import { EnrollmentWorkflow } from '@berth/control';
import { hostRow, hostRows, updateHost, type HostChange } from '@berth/data';
import { SecretBox } from '@berth/platform';
import { utils } from 'ssh2';
import { BerthError } from '@berth/domain';
import { Body, Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { actorOf, CurrentPrincipal, CurrentRequestId, type Principal } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { recordedChange } from '../common/recorded';
import { UuidPipe } from '../common/uuid-pipe';
import { ApiEnv } from '../config';

import { DrainAccepted, EnrollAccepted, EnrollHostDto, HostList, HostView, hostView, UpdateHostDto } from './hosts.dto';

/** Compute hosts register themselves through their agent's heartbeat. Operators only. */
@ApiTags('hosts')
@ApiBearerAuth()
@ApiErrors(401, 403)
@Controller('v1/hosts')
export class HostsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly env: ApiEnv,
    private readonly migrations: MigrationWorkflow,
    private readonly enrollments: EnrollmentWorkflow,
  ) {}

  /**
   * Enrolls a host over SSH: the scheduler connects with the host key pinned (first seen, or the one
   * given), checks prerequisites, installs the agent's settings and starts it; the host appears once
   * it heartbeats. The key is sealed with BERTH_SECRET_KEY and never leaves the database in a job.
   */
  @Post()
  @Policy('host:enroll')
  @ApiOperation({ summary: 'Enroll a compute host over SSH (admin)' })
  @ApiErrors(400, 409, 413, 503)
  @HttpCode(202)
  @ApiAcceptedResponse({ type: EnrollAccepted })
  async enroll(
    @Body() dto: EnrollHostDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<EnrollAccepted> {
    if (!this.env.BERTH_SECRET_KEY) {
      throw BerthError.unavailable('host enrollment needs BERTH_SECRET_KEY to seal private keys; it is not set');
    }
    const parsed = utils.parseKey(dto.privateKey);
    if (parsed instanceof Error || Array.isArray(parsed) || !parsed.isPrivateKey()) {
      throw BerthError.invalid([
        {
          field: 'privateKey',
          rule: 'privateKey',
          message: 'privateKey must be an unencrypted OpenSSH or PEM private key',
        },
      ]);
    }
    const actor = { ...actorOf(principal, requestId), projectId: null };
    return this.enrollments.request(
      {
        name: dto.name,
        address: dto.address,
        port: dto.port ?? 22,
        username: dto.username ?? 'root',
        privateKey: dto.privateKey,
        drivers: dto.drivers ?? ['container'],
        zone: dto.zone ?? null,
        hostKeyFingerprint: dto.hostKeyFingerprint ?? null,
      },
      actor,
      SecretBox.fromBase64(this.env.BERTH_SECRET_KEY),
    );
  }

  /**
   * Rebuilds every instance of a host that is down on other hosts, from its image, with the same
   * identity; refused (409) while the host is up. The old host's claim goes once it is back and has
   * removed its stale copies.
   */
  @Post(':id/evacuate')
  @Policy('host:evacuate')
  @ApiOperation({ summary: 'Rebuild every instance of a down host elsewhere (admin)' })
  @ApiErrors(400, 404, 409, 414)
  @HttpCode(202)
  @ApiAcceptedResponse({ type: DrainAccepted })
  async evacuate(
    @Param('id', UuidPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<DrainAccepted> {
    const actor = { ...actorOf(principal, requestId), projectId: null };
    return { operationId: await this.migrations.evacuate(id, actor, this.env.BERTH_HOST_DOWN_AFTER_SEC) };
  }

  /**
   * Takes the host out of scheduling and cold-migrates every instance off it (each confirmed as it
   * lands). The operation has a step per instance and ends with the last; what could not move is a
   * failed step saying why.
   */
  @Post(':id/drain')
  @Policy('host:drain')
  @ApiOperation({ summary: 'Disable a host and migrate every instance off it (admin)' })
  @ApiErrors(400, 404, 414)
  @HttpCode(202)
  @ApiAcceptedResponse({ type: DrainAccepted })
  async drain(
    @Param('id', UuidPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<DrainAccepted> {
    const actor = { ...actorOf(principal, requestId), projectId: null };
    return { operationId: await this.migrations.drain(id, actor) };
  }

  @Get()
  @Policy('host:list')
  @ApiOperation({ summary: 'List compute hosts with capacity, usage and state (admin)' })
  @ApiOkResponse({ type: HostList })
  async list(): Promise<HostList> {
    return {
      items: (await hostRows(this.dataSource.manager, this.env.BERTH_HOST_DOWN_AFTER_SEC)).map(hostView),
    };
  }

  @Get(':id')
  @Policy('host:get')
  @ApiOperation({ summary: 'Show a compute host (admin)' })
  @ApiErrors(400, 404, 414)
  @ApiOkResponse({ type: HostView })
  async get(@Param('id', UuidPipe) id: string): Promise<HostView> {
    const host = await hostRow(this.dataSource.manager, this.env.BERTH_HOST_DOWN_AFTER_SEC, id);
    if (!host) throw BerthError.notFound('host', id);
    return hostView(host);
  }

  /** A ratio lowered below what the host already holds moves nothing; the host just takes no more. */
  @Patch(':id')
  @Policy('host:update')
  @ApiOperation({ summary: 'Disable or enable a host, set its zone or allocation ratios (admin)' })
  @ApiErrors(400, 404, 413, 414)
  @ApiOkResponse({ type: HostView })
  async update(
    @Param('id', UuidPipe) id: string,
    @Body() dto: UpdateHostDto,
    @CurrentPrincipal() principal: Principal,
    @CurrentRequestId() requestId: string,
  ): Promise<HostView> {
    const change: HostChange = {
      ...(dto.enabled !== undefined
        ? { enabled: dto.enabled, disabledReason: dto.enabled ? null : (dto.disabledReason ?? null) }
        : dto.disabledReason !== undefined
          ? { disabledReason: dto.disabledReason }
          : {}),
      ...(dto.zone !== undefined ? { zone: dto.zone } : {}),
      ...(dto.cpuRatio !== undefined ? { cpuRatio: dto.cpuRatio } : {}),
      ...(dto.ramRatio !== undefined ? { ramRatio: dto.ramRatio } : {}),
      ...(dto.diskRatio !== undefined ? { diskRatio: dto.diskRatio } : {}),
    };
    if (Object.keys(change).length === 0)
      throw BerthError.invalid([{ field: 'body', rule: 'notEmpty', message: 'name at least one field to change' }]);
    await recordedChange(this.dataSource, actorOf(principal, requestId), 'host.update', 'host', async (m) => {
      if (!(await updateHost(m, id, change))) throw BerthError.notFound('host', id);
      return { id };
    });
    return this.get(id);
  }
}
