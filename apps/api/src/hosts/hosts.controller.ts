import { MigrationWorkflow } from '@berth/control';
import { EnrollmentStore, rows } from '@berth/data';
import { DRIVER_CAPABILITIES, INSTANCE_KINDS, type DriverCapability, type InstanceKind } from '@berth/contracts';
import { SecretBox } from '@berth/platform';
import { utils } from 'ssh2';
import { BerthError, formatCpuList, RESOURCE_NAME, RESOURCE_NAME_RULE } from '@berth/domain';
import { Body, Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import {
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { DataSource } from 'typeorm';
import { Policy } from '../auth/policy';
import { actorOf, CurrentPrincipal, CurrentRequestId, type Principal } from '../auth/principal';
import { ApiErrors } from '../common/api-errors';
import { recordedChange } from '../common/recorded';
import { UuidPipe } from '../common/uuid-pipe';
import { ApiEnv } from '../config';

class Resources {
  @ApiProperty({ description: 'Shared vCPUs (before the allocation ratio)' }) vcpus!: number;
  @ApiProperty({ description: 'Dedicated CPUs, one instance each, never overcommitted' }) pcpus!: number;
  @ApiProperty() ramMb!: number;
  @ApiProperty() diskGb!: number;
  @ApiProperty({
    nullable: true,
    type: Number,
    description:
      'Processes and threads: in capacity, what instances may hold (kernel.pid_max less the host’s reserve, never ' +
      'overcommitted; null until its agent tells); in usage, the pids limits its instances hold',
  })
  pids!: number | null;
}

class Ratios {
  @ApiProperty() cpu!: number;
  @ApiProperty() ram!: number;
  @ApiProperty() disk!: number;
}

class Usage extends Resources {
  @ApiProperty({ description: 'Instances and reservation slots allocated here' }) instances!: number;
  @ApiProperty({ type: [Number], description: 'Dedicated CPUs held by instances and reservation slots' })
  pinnedCpus!: number[];
}

class CpuSets {
  @ApiProperty({ example: '0-1', description: 'CPUs shared instances float over (kernel CPU list)' }) shared!: string;
  @ApiProperty({ example: '2-7', description: 'CPUs dedicated instances are pinned to' }) dedicated!: string;
}

export class HostView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() address!: string;
  @ApiProperty({ enum: ['up', 'down'], description: 'down when heartbeats stopped' }) state!: 'up' | 'down';
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ nullable: true, type: String }) disabledReason!: string | null;
  @ApiProperty() zone!: string;
  @ApiProperty({ example: '1-4094', description: 'VLANs the host reaches, as its agent reports' }) vlanRanges!: string;
  @ApiProperty({ type: [String], example: ['container'] }) drivers!: string[];
  @ApiProperty({
    type: [String],
    example: [],
    description:
      'Kinds whose hypervisor (dockerd, libvirtd) did not answer at the last heartbeat: no new instance of that kind is placed here until it does',
  })
  unavailableDrivers!: string[];
  @ApiProperty({ type: [String], description: 'Images the host holds' }) cachedImages!: string[];
  @ApiProperty({ type: [String], description: 'Aggregates the host is in' }) aggregates!: string[];
  @ApiProperty({ type: Resources, description: 'Physical totals the agent reported' }) capacity!: Resources;
  @ApiProperty({ type: Ratios }) allocationRatios!: Ratios;
  @ApiProperty({ type: Usage, description: 'Sum of the allocations on this host' }) usage!: Usage;
  @ApiProperty({ type: CpuSets }) cpuSets!: CpuSets;
  @ApiProperty({ description: 'lxcfs runs there: instances see their own limits in /proc' }) lxcfs!: boolean;
  @ApiProperty({
    type: [String],
    example: ['seccomp', 'no-new-privileges', 'cap-drop:NET_RAW,MKNOD', 'port-security'],
    description:
      'How the host keeps instances apart, as its agent reports: the container runtime security options ' +
      '(seccomp, userns, apparmor, selinux) and Berth’s own (no-new-privileges, dropped capabilities, port security)',
  })
  confinement!: string[];
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'kernel.pid_max: processes and threads the host can hold at once (its agent raises it at start)',
  })
  pidMax!: number | null;
  @ApiProperty({
    nullable: true,
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'string', enum: [...DRIVER_CAPABILITIES] } },
    example: { container: ['live-resize', 'cold-migrate'], vm: ['live-resize', 'cold-migrate'] },
    description:
      "Each driver's capabilities by instance kind, as its agent reports them: what the API lets instances there do " +
      '(a live resize needs live-resize, a migration or a drain cold-migrate). null: not reported (an older agent)',
  })
  capabilities!: Partial<Record<InstanceKind, DriverCapability[]>> | null;
  @ApiProperty({ nullable: true, type: Date }) lastHeartbeatAt!: Date | null;
  @ApiProperty() agentVersion!: string;
}

export class HostList {
  @ApiProperty({ type: [HostView] }) items!: HostView[];
}

/** A host to enroll over SSH: where it is, who logs in, and the key (sealed at rest, never logged). */
export class EnrollHostDto {
  @ApiProperty({ example: 'compute-7', description: 'Its name in Berth (and its agent queue), a host name label' })
  @Matches(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, { message: 'name must be a lower-case host name label' })
  name!: string;

  @ApiProperty({
    example: '10.250.0.12',
    description: 'Where the API reaches its SSH server: an IPv4 address or a DNS name',
  })
  @Matches(/^(\d{1,3}(\.\d{1,3}){3}|[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*)$/, {
    message: 'address must be an IPv4 address or a DNS name',
  })
  @MaxLength(253)
  address!: string;

  @ApiPropertyOptional({ default: 22, minimum: 1, maximum: 65535 })
  @IsOptional()
  @IsInt({ message: 'port must be an integer' })
  @Min(1)
  @Max(65535)
  port?: number;

  @ApiPropertyOptional({ default: 'root' })
  @IsOptional()
  @Matches(/^[a-z_][a-z0-9_-]{0,31}$/, { message: 'username must be a POSIX user name' })
  username?: string;

  @ApiProperty({ description: 'The private key (OpenSSH or PEM, no passphrase); sealed at rest, never shown again' })
  @IsString()
  @MaxLength(16_384)
  privateKey!: string;

  @ApiPropertyOptional({
    example: 'SHA256:2rQ8Z3...',
    description: "The host key's fingerprint to expect; unset: the first one seen is pinned, then enforced",
  })
  @IsOptional()
  @Matches(/^SHA256:[A-Za-z0-9+/]{43}$/, { message: 'hostKeyFingerprint must be an OpenSSH SHA256 fingerprint' })
  hostKeyFingerprint?: string;

  @ApiPropertyOptional({ type: [String], enum: INSTANCE_KINDS, default: ['container'] })
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @IsIn(INSTANCE_KINDS, { each: true, message: `drivers must each be one of: ${INSTANCE_KINDS.join(', ')}` })
  drivers?: InstanceKind[];

  @ApiPropertyOptional({ example: 'zone-a' })
  @IsOptional()
  @Matches(RESOURCE_NAME, { message: `zone must be ${RESOURCE_NAME_RULE}` })
  zone?: string;
}

export class EnrollAccepted {
  @ApiProperty({
    format: 'uuid',
    description: 'Steps: connect (with the host key), prerequisites, install, start, heartbeat',
  })
  operationId!: string;
  @ApiProperty({ format: 'uuid' }) enrollmentId!: string;
}

/** What an operator may change on a host; the rest comes from its agent. */
export class UpdateHostDto {
  @ApiPropertyOptional({ description: 'false takes the host out of scheduling; its instances keep running' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ example: 'disk replacement, ticket 4711' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  disabledReason?: string;

  @ApiPropertyOptional({ example: 'zone-a' })
  @IsOptional()
  @IsString()
  @Matches(RESOURCE_NAME, { message: `zone must be ${RESOURCE_NAME_RULE}` })
  zone?: string;

  @ApiPropertyOptional({ minimum: 0.1, maximum: 64 }) @IsOptional() @IsNumber() @Min(0.1) @Max(64) cpuRatio?: number;
  @ApiPropertyOptional({ minimum: 0.1, maximum: 8 }) @IsOptional() @IsNumber() @Min(0.1) @Max(8) ramRatio?: number;
  @ApiPropertyOptional({ minimum: 0.1, maximum: 8 }) @IsOptional() @IsNumber() @Min(0.1) @Max(8) diskRatio?: number;
}

const HOST_VIEW_SQL = `
  SELECT h.id, h.name, h.address,
         CASE WHEN h.last_heartbeat_at > now() - make_interval(secs => $1) THEN 'up' ELSE 'down' END AS state,
         h.enabled, h.disabled_reason AS "disabledReason", h.zone, h.vlan_ranges AS "vlanRanges", h.drivers,
         h.unavailable_drivers AS "unavailableDrivers", h.cached_images AS "cachedImages",
         coalesce((SELECT array_agg(a.name ORDER BY a.name) FROM aggregate_hosts ah JOIN aggregates a ON a.id = ah.aggregate_id
                    WHERE ah.host_id = h.id), '{}') AS aggregates,
         json_build_object('vcpus', h.vcpus, 'pcpus', h.pcpus, 'ramMb', h.ram_mb, 'diskGb', h.disk_gb,
                           'pids', h.pids) AS capacity,
         json_build_object('cpu', h.cpu_ratio, 'ram', h.ram_ratio, 'disk', h.disk_ratio) AS "allocationRatios",
         json_build_object('vcpus', h.used_vcpus, 'pcpus', h.used_pcpus, 'ramMb', h.used_ram_mb,
                           'diskGb', h.used_disk_gb, 'pids', h.used_pids, 'instances', h.used_instances,
                           'pinnedCpus', (SELECT coalesce(array_agg(c ORDER BY c), '{}') FROM unnest(h.pinned_cpus) c)) AS usage,
         json_build_object('shared', h.cpu_shared_set, 'dedicated', h.cpu_dedicated_set) AS "cpuSets", h.lxcfs,
         h.confinement, h.pid_max AS "pidMax", h.capabilities,
         h.last_heartbeat_at AS "lastHeartbeatAt", h.agent_version AS "agentVersion"
    FROM hosts h`;

type HostRow = Omit<HostView, 'cpuSets'> & { cpuSets: { shared: string; dedicated: number[] } };

const hostView = (h: HostRow): HostView => ({
  ...h,
  cpuSets: { shared: h.cpuSets.shared, dedicated: formatCpuList(h.cpuSets.dedicated) },
});

export class DrainAccepted {
  @ApiProperty({ format: 'uuid', description: 'The drain or evacuation: a step per instance on the host' })
  operationId!: string;
}

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
    private readonly enrollments: EnrollmentStore,
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
      items: (
        await rows<HostRow>(this.dataSource.manager, `${HOST_VIEW_SQL} ORDER BY h.name`, [
          this.env.BERTH_HOST_DOWN_AFTER_SEC,
        ])
      ).map(hostView),
    };
  }

  @Get(':id')
  @Policy('host:get')
  @ApiOperation({ summary: 'Show a compute host (admin)' })
  @ApiErrors(400, 404, 414)
  @ApiOkResponse({ type: HostView })
  async get(@Param('id', UuidPipe) id: string): Promise<HostView> {
    const [host] = await rows<HostRow>(this.dataSource.manager, `${HOST_VIEW_SQL} WHERE h.id = $2`, [
      this.env.BERTH_HOST_DOWN_AFTER_SEC,
      id,
    ]);
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
    const set: Array<[string, unknown]> = [];
    if (dto.enabled !== undefined)
      set.push(['enabled', dto.enabled], ['disabled_reason', dto.enabled ? null : (dto.disabledReason ?? null)]);
    else if (dto.disabledReason !== undefined) set.push(['disabled_reason', dto.disabledReason]);
    if (dto.zone !== undefined) set.push(['zone', dto.zone]);
    if (dto.cpuRatio !== undefined) set.push(['cpu_ratio', dto.cpuRatio]);
    if (dto.ramRatio !== undefined) set.push(['ram_ratio', dto.ramRatio]);
    if (dto.diskRatio !== undefined) set.push(['disk_ratio', dto.diskRatio]);
    if (set.length === 0)
      throw BerthError.invalid([{ field: 'body', rule: 'notEmpty', message: 'name at least one field to change' }]);
    await recordedChange(this.dataSource, actorOf(principal, requestId), 'host.update', 'host', async (m) => {
      const assignments = set.map(([column], i) => `${column} = $${i + 2}`).join(', ');
      const updated = await rows<{ id: string }>(m, `UPDATE hosts SET ${assignments} WHERE id = $1 RETURNING id`, [
        id,
        ...set.map(([, v]) => v),
      ]);
      if (updated.length === 0) throw BerthError.notFound('host', id);
      return { id };
    });
    return this.get(id);
  }
}
