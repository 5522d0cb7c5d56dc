import { DRIVER_CAPABILITIES, INSTANCE_KINDS, type DriverCapability, type InstanceKind } from '@berth/contracts';
import { formatCpuList, RESOURCE_NAME, RESOURCE_NAME_RULE } from '@berth/domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
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

import type { HostRow } from '@berth/data';

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
  @ApiProperty({ type: [String], example: ['file'], description: 'The volume backends it offers (none: no volumes)' })
  volumeBackends!: string[];
  @ApiProperty({
    type: [String],
    description:
      'What its volume pools held that no volume record of the host names, as its agent last started: kept on the ' +
      'host for the admin to look at (docs/operations.md, Volumes)',
  })
  strayVolumes!: string[];
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

export class DrainAccepted {
  @ApiProperty({ format: 'uuid', description: 'The drain or evacuation: a step per instance on the host' })
  operationId!: string;
}

/** Field by field: the row's shape is the data library's, the answer's is this view's. */
export function hostView(h: HostRow): HostView {
  return {
    id: h.id,
    name: h.name,
    address: h.address,
    state: h.state,
    enabled: h.enabled,
    disabledReason: h.disabledReason,
    zone: h.zone,
    vlanRanges: h.vlanRanges,
    drivers: h.drivers,
    unavailableDrivers: h.unavailableDrivers,
    cachedImages: h.cachedImages,
    aggregates: h.aggregates,
    capacity: h.capacity,
    allocationRatios: h.allocationRatios,
    usage: h.usage,
    cpuSets: { shared: h.cpuSets.shared, dedicated: formatCpuList(h.cpuSets.dedicated) },
    lxcfs: h.lxcfs,
    confinement: h.confinement,
    pidMax: h.pidMax,
    capabilities: h.capabilities,
    volumeBackends: h.volumeBackends,
    strayVolumes: h.strayVolumes,
    lastHeartbeatAt: h.lastHeartbeatAt,
    agentVersion: h.agentVersion,
  };
}
