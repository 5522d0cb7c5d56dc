import { rows } from '@berth/db';
import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiTags, ApiOperation } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { ApiEnv } from '../config';
import { Policy } from '../auth/policy';
import { ApiErrors } from '../common/api-errors';

class Resources {
  @ApiProperty() vcpus!: number;
  @ApiProperty() ramMb!: number;
  @ApiProperty() diskGb!: number;
}

class Ratios {
  @ApiProperty() cpu!: number;
  @ApiProperty() ram!: number;
  @ApiProperty() disk!: number;
}

export class HostView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() address!: string;
  @ApiProperty({ enum: ['up', 'down'], description: 'down when heartbeats stopped' }) state!: 'up' | 'down';
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ nullable: true, type: String }) disabledReason!: string | null;
  @ApiProperty({ type: [String], example: ['container'] }) drivers!: string[];
  @ApiProperty({ type: Resources, description: 'Physical totals the agent reported' }) capacity!: Resources;
  @ApiProperty({ type: Ratios }) allocationRatios!: Ratios;
  @ApiProperty({ type: Resources, description: 'Sum of the allocations on this host' }) usage!: Resources;
  @ApiProperty({ nullable: true, type: Date }) lastHeartbeatAt!: Date | null;
  @ApiProperty() agentVersion!: string;
}

export class HostList {
  @ApiProperty({ type: [HostView] }) items!: HostView[];
}

/** Compute hosts register themselves through their agent's heartbeat. Operators only. */
@ApiTags('hosts')
@ApiBearerAuth()
@ApiErrors(401)
@Controller('v1/hosts')
export class HostsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly env: ApiEnv,
  ) {}

  @Get()
  @Policy('host:list')
  @ApiOperation({ summary: 'List compute hosts with capacity, usage and state (admin)' })
  @ApiErrors(403)
  @ApiOkResponse({ type: HostList })
  async list(): Promise<HostList> {
    const items = await rows<HostView>(
      this.dataSource.manager,
      `SELECT id, name, address,
              CASE WHEN last_heartbeat_at > now() - make_interval(secs => $1) THEN 'up' ELSE 'down' END AS state,
              enabled, disabled_reason AS "disabledReason", drivers,
              json_build_object('vcpus', vcpus, 'ramMb', ram_mb, 'diskGb', disk_gb) AS capacity,
              json_build_object('cpu', cpu_ratio, 'ram', ram_ratio, 'disk', disk_ratio) AS "allocationRatios",
              json_build_object('vcpus', used_vcpus, 'ramMb', used_ram_mb, 'diskGb', used_disk_gb) AS usage,
              last_heartbeat_at AS "lastHeartbeatAt", agent_version AS "agentVersion"
         FROM hosts ORDER BY name`,
      [this.env.BERTH_HOST_DOWN_AFTER_SEC],
    );
    return { items };
  }
}
