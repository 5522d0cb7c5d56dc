import { auditHostUsage } from '@berth/control';
import { projectUsage, projectNames } from '@berth/data';
import type { QuotaSet } from '@berth/domain';
import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { ApiErrors } from '../common/api-errors';

class ResourcesView {
  @ApiProperty() vcpus!: number;
  @ApiProperty() ramMb!: number;
  @ApiProperty() diskGb!: number;
  @ApiProperty({ description: 'Pids limits held (containers), and QEMU threads (VMs)' }) pids!: number;
}

class HostUsageView extends ResourcesView {
  @ApiProperty({ description: 'Dedicated CPUs held' }) pcpus!: number;
  @ApiProperty({ description: 'Instances (and reservation slots) allocated; volumes are not instances' })
  instances!: number;
  @ApiProperty({ type: [Number], description: 'The host CPUs pinned' }) pinnedCpus!: number[];
}

class HostDriftView {
  @ApiProperty() host!: string;
  @ApiProperty({ type: HostUsageView, description: "The host's usage counters" }) recorded!: HostUsageView;
  @ApiProperty({ type: HostUsageView, description: 'The sum of its allocations' }) actual!: HostUsageView;
}

class ProjectUsageView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'instances, vcpus, ramMb, diskGb, ips, volumes, volumeGb counted from the rows' })
  usage!: QuotaSet;
}

export class UsageAudit {
  @ApiProperty({ description: 'Hosts checked' }) hostsChecked!: number;
  @ApiProperty({ type: [HostDriftView], description: 'Hosts whose counters differ from their allocations' })
  hostDrift!: HostDriftView[];
  @ApiProperty({ description: 'Whether the drift found was repaired' }) repaired!: boolean;
  @ApiProperty({ type: [ProjectUsageView] }) projects!: ProjectUsageView[];
}

/**
 * Usage recomputed from the rows. Project usage has no stored counter, so it cannot drift; hosts'
 * capacity counters can (a hand edit, a bug) and are compared with their allocations here.
 */
@ApiTags('usage')
@ApiBearerAuth()
@ApiErrors(401, 403)
@Controller('v1/usage/audit')
export class UsageController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  @Policy('usage:audit')
  @ApiOperation({ summary: 'Recompute usage and report drift (admin)' })
  @ApiOkResponse({ type: UsageAudit })
  audit(): Promise<UsageAudit> {
    return this.run(false);
  }

  @Post('repair')
  @Policy('usage:repair')
  @HttpCode(200)
  @ApiOperation({ summary: "Recompute usage and set drifted hosts' counters to their allocations (admin)" })
  @ApiOkResponse({ type: UsageAudit })
  repair(): Promise<UsageAudit> {
    return this.run(true);
  }

  private async run(repair: boolean): Promise<UsageAudit> {
    const hosts = await auditHostUsage(this.dataSource, repair);
    const projects = await projectNames(this.dataSource.manager);
    const usage = await Promise.all(
      projects.map(async (p) => ({ ...p, usage: await projectUsage(this.dataSource.manager, p.id) })),
    );
    return {
      hostsChecked: hosts.checked,
      hostDrift: hosts.drift,
      repaired: repair && hosts.drift.length > 0,
      projects: usage,
    };
  }
}
