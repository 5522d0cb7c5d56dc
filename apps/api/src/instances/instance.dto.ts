import { applyDecorators } from '@nestjs/common';
import {
  CPU_POLICIES,
  INSTANCE_KINDS,
  MIGRATION_KINDS,
  MIGRATION_STATUSES,
  POWER_STATES,
  THROTTLES,
  type CpuPolicy,
  type Fault,
  type InstanceKind,
  type MigrationKind,
  type MigrationStatus,
  type PowerState,
} from '@berth/contracts';
import { instanceLimitsOf } from '@berth/control';
import type { MigrationRow, InstanceRecord } from '@berth/data';
import {
  INSTANCE_NAME,
  INSTANCE_NAME_RULE,
  MAX_ADDRESS_PAIRS,
  INSTANCE_STATUSES,
  RESOURCE_NAME,
  RESOURCE_NAME_RULE,
  LIMIT_ACTIONS,
  MIGRATION_ACTIONS,
  POWER_ACTIONS,
  TASK_STATES,
  RESTART_POLICIES,
  type InstanceStatus,
  type RestartPolicy,
  type LimitAction,
  type MigrationAction,
  type ThrottleChanges,
  type PowerAction,
  type TaskState,
} from '@berth/domain';
import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { Type } from 'class-transformer';
import { PageQuery } from '../common/pagination';
import { DiskNetThrottlesView } from '../common/throttle-property';

const LIMITS_SCHEMA = {
  type: 'object',
  example: { netEgressMbps: 100, diskWriteBps: 52428800 },
  description:
    'Throttles to set (null: unlimited, where the rule allows). Members stay within the flavor limitBounds; ' +
    `admins within the cloud-wide rules. Keys: ${THROTTLES.join(', ')}`,
  additionalProperties: { type: 'integer', nullable: true },
} as const;

/** The most instances one request may create. */
export const MAX_BATCH = 100;

/** Instance kinds: containers (Docker) and VMs (libvirt), placed on hosts whose agents run that driver. */
export const ACCEPTED_KINDS = ['container', 'vm'] as const satisfies readonly InstanceKind[];

export const MAX_SECURITY_GROUPS = 10;
const SECURITY_GROUPS_SCHEMA: ApiPropertyOptions = {
  type: [String],
  example: ['default', 'web'],
  description:
    "Security groups (ids or names, the project's) of the port: stateful allow lists. Default at create: the " +
    "project's default group (egress anywhere, ingress from its members). [] allows nothing in or out",
};

/** A list of the project's security groups by id or name: at create and in set-security-groups. */
const SecurityGroupRefs = () =>
  applyDecorators(
    ApiPropertyOptional(SECURITY_GROUPS_SCHEMA),
    IsOptional(),
    IsArray({ message: 'securityGroups must be a list of group ids or names' }),
    ArrayMaxSize(MAX_SECURITY_GROUPS, { message: `securityGroups may name at most ${MAX_SECURITY_GROUPS} groups` }),
    IsString({ each: true, message: 'securityGroups must be a list of group ids or names' }),
    Length(1, 64, { each: true, message: 'each of securityGroups must be 1 to 64 characters' }),
  );

export class CreateInstanceDto {
  @ApiProperty({ example: 'web-1', description: `Becomes the hostname: ${INSTANCE_NAME_RULE}` })
  @IsString()
  @Matches(INSTANCE_NAME, { message: `name must be ${INSTANCE_NAME_RULE}` })
  name!: string;

  @ApiProperty({ enum: ACCEPTED_KINDS })
  @IsIn(ACCEPTED_KINDS, { message: `kind must be one of: ${ACCEPTED_KINDS.join(', ')}` })
  kind!: InstanceKind;

  @ApiProperty({ example: 'm1.small', description: 'Flavor id or name' })
  @IsString()
  @Length(1, 64)
  flavor!: string;

  @ApiProperty({ example: 'busybox', description: 'Image id or name' })
  @IsString()
  @Length(1, 64)
  image!: string;

  @ApiProperty({ example: 'vlan100', description: 'Network id or name' })
  @IsString()
  @Length(1, 64)
  network!: string;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_BATCH,
    description: 'Create this many (named name-1 ... name-N); all or none',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_BATCH)
  count?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_BATCH,
    description: "At least this many, or none (Nova's min_count)",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_BATCH)
  minCount?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_BATCH,
    description: 'Up to this many, as many as quota and capacity allow',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_BATCH)
  maxCount?: number;

  @ApiPropertyOptional({ example: 'zone-a', description: 'Availability zone to build in' })
  @IsOptional()
  @IsString()
  @Matches(RESOURCE_NAME, { message: `zone must be ${RESOURCE_NAME_RULE}` })
  zone?: string;

  @ApiPropertyOptional({ description: 'Server group id or name to join' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  serverGroup?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Draw on this reservation (same flavor, inside its window)' })
  @IsOptional()
  @IsUUID('all', { message: 'reservation must be a UUID' })
  reservation?: string;

  @ApiPropertyOptional({
    description: "Project id or name to create in (cloud admin only; default: the token's project)",
  })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  project?: string;

  @ApiPropertyOptional({
    example: '10.0.0.42',
    description: "A free address in the network's pool (default: the lowest free one)",
  })
  @IsOptional()
  @IsString()
  @MaxLength(15)
  ip?: string;

  @ApiPropertyOptional(LIMITS_SCHEMA)
  @IsOptional()
  @IsObject({ message: 'limits must be an object' })
  limits?: ThrottleChanges;

  @ApiPropertyOptional({
    type: () => [AddressPairView],
    maxItems: MAX_ADDRESS_PAIRS,
    description:
      "More addresses the port may send from (an IPv4 address or CIDR, with a MAC, by default the port's own), " +
      'as for a VRRP address shared by two instances; port security drops every other source',
  })
  @IsOptional()
  @IsArray({ message: 'allowedAddressPairs must be a list of {ip, mac?}' })
  allowedAddressPairs?: unknown[];

  @SecurityGroupRefs()
  securityGroups?: string[];

  @ApiPropertyOptional({
    default: true,
    description:
      'false: the port sends from any MAC and address (an appliance that routes for others). Cloud admin only',
  })
  @IsOptional()
  @IsBoolean({ message: 'portSecurity must be true or false' })
  portSecurity?: boolean;

  @ApiPropertyOptional({
    enum: RESTART_POLICIES,
    default: 'never',
    description: 'always: started again when found stopped outside Berth (a crash, an OOM kill); never: left SHUTOFF',
  })
  @IsOptional()
  @IsIn(RESTART_POLICIES, { message: `restartPolicy must be one of: ${RESTART_POLICIES.join(', ')}` })
  restartPolicy?: RestartPolicy;
}

export class InstanceQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'Admin: one project only. Others always see their own project' })
  @IsOptional()
  @IsUUID('all', { message: 'project must be a UUID' })
  project?: string;
}

const ACTIONS = [
  ...POWER_ACTIONS,
  ...LIMIT_ACTIONS,
  ...MIGRATION_ACTIONS,
  'set-security-groups',
  'set-port-security',
] as const;

export class ConsoleQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100, description: 'How many of the last lines' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  lines?: number;
}

export class ConsoleView {
  @ApiProperty({ type: [String], description: "The console's last lines, oldest first" }) lines!: string[];
}

export class StatsQuery {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: 10,
    default: 1,
    description: 'Seconds between the two readings the rates are worked out from',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10)
  interval?: number;
}

class CpuStatsView {
  @ApiProperty({ description: 'CPU time used over the interval, as a percentage of one CPU (200: two CPUs busy)' })
  percent!: number;
  @ApiProperty({ description: "The same, as a percentage of the instance's vCPUs" }) percentOfVcpus!: number;
  @ApiProperty() vcpus!: number;
  @ApiProperty({ description: 'CPU time used since the instance started' }) usedSeconds!: number;
}

class MemoryStatsView {
  @ApiProperty({ description: 'In use, without reclaimable page cache (a VM: its QEMU resident size)' })
  usedBytes!: number;
  @ApiProperty({ nullable: true, type: Number }) limitBytes!: number | null;
  @ApiProperty({ nullable: true, type: Number }) percent!: number | null;
}

class NetworkStatsView {
  @ApiProperty({ description: 'Received by the instance since its port was plugged' }) rxBytes!: number;
  @ApiProperty() txBytes!: number;
  @ApiProperty() rxPackets!: number;
  @ApiProperty() txPackets!: number;
  @ApiProperty() rxBytesPerSec!: number;
  @ApiProperty() txBytesPerSec!: number;
  @ApiProperty() rxPacketsPerSec!: number;
  @ApiProperty() txPacketsPerSec!: number;
}

class BlockIoStatsView {
  @ApiProperty() readBytes!: number;
  @ApiProperty() writeBytes!: number;
  @ApiProperty() readOps!: number;
  @ApiProperty() writeOps!: number;
  @ApiProperty() readBytesPerSec!: number;
  @ApiProperty() writeBytesPerSec!: number;
  @ApiProperty() readIops!: number;
  @ApiProperty() writeIops!: number;
}

export class InstanceStatsView {
  @ApiProperty({ description: 'Seconds between the two readings' }) intervalSec!: number;
  @ApiProperty({ type: CpuStatsView }) cpu!: CpuStatsView;
  @ApiProperty({ type: MemoryStatsView }) memory!: MemoryStatsView;
  @ApiProperty({ type: NetworkStatsView }) network!: NetworkStatsView;
  @ApiProperty({ type: BlockIoStatsView }) blockIo!: BlockIoStatsView;
}

export class InstanceActionDto {
  @ApiProperty({
    enum: ACTIONS,
    description:
      'stop, start, reboot; resize (to `flavor`, live on the same host) or set-limits (`limits`). ' +
      'A resize or set-limits the host lacks room for answers 409 and changes nothing. ' +
      'Admin: migrate (cold, to `host` or where the scheduler chooses), then confirm or revert. ' +
      'set-security-groups: the port is in exactly `securityGroups` from now on (its host applies them live). ' +
      'set-port-security: the port may send from `allowedAddressPairs` from now on; `portSecurity` (admin) switches ' +
      'its checks off or on',
  })
  @IsIn(ACTIONS, { message: `action must be one of: ${ACTIONS.join(', ')}` })
  action!: PowerAction | LimitAction | MigrationAction | 'set-security-groups' | 'set-port-security';

  @SecurityGroupRefs()
  securityGroups?: string[];

  @ApiPropertyOptional({
    type: () => [AddressPairView],
    maxItems: MAX_ADDRESS_PAIRS,
    description: 'set-port-security: every address the port may send from besides its own (replaces the list)',
  })
  @IsOptional()
  @IsArray({ message: 'allowedAddressPairs must be a list of {ip, mac?}' })
  allowedAddressPairs?: unknown[];

  @ApiPropertyOptional({ description: 'set-port-security: false switches the checks off (cloud admin only)' })
  @IsOptional()
  @IsBoolean({ message: 'portSecurity must be true or false' })
  portSecurity?: boolean;

  @ApiPropertyOptional({
    description:
      'resize: when the host lacks room for the new size, move the instance to a host that has it (a cold ' +
      'resize: it restarts there with the same address, confirmed as it lands). Without it such a resize is a 409',
  })
  @IsOptional()
  @IsBoolean({ message: 'allowMove must be a boolean' })
  allowMove?: boolean;

  @ApiPropertyOptional({ example: 'tb2', description: 'migrate: the host to move to (default: the scheduler chooses)' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, {
    message: 'host must be a host name (lower-case letters, digits, -)',
  })
  host?: string;

  @ApiPropertyOptional({ example: 'm1.large', description: 'resize: the flavor (id or name) to resize to' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  flavor?: string;

  @ApiPropertyOptional(LIMITS_SCHEMA)
  @IsOptional()
  @IsObject({ message: 'limits must be an object' })
  limits?: ThrottleChanges;
}

class SecurityGroupRef {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
}

class Ref {
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) id!: string | null;
  @ApiProperty() name!: string;
}

class FlavorRef extends Ref {
  @ApiProperty() vcpus!: number;
  @ApiProperty() ramMb!: number;
  @ApiProperty() diskGb!: number;
}

class ImageRef extends Ref {
  @ApiProperty() ref!: string;
}

class LimitsView extends DiskNetThrottlesView {
  @ApiProperty() vcpus!: number;
  @ApiProperty() ramMb!: number;
  @ApiProperty({ enum: CPU_POLICIES }) cpuPolicy!: CpuPolicy;
  @ApiProperty({ type: [Number], description: 'Host CPUs a dedicated instance owns' }) pinnedCpus!: number[];
  @ApiProperty({ description: 'Percent of its vCPUs a shared instance may use' }) cpuQuota!: number;
  @ApiProperty() pidsLimit!: number;
}

class AppliedLimitsView extends DiskNetThrottlesView {
  @ApiProperty({ example: '2-3', description: 'CPUs it may run on, as the kernel lists them' }) cpuset!: string;
  @ApiProperty({ nullable: true, type: Number, description: 'CPU time cap in CPUs (CFS quota/period)' })
  cpus!: number | null;
  @ApiProperty({ nullable: true, type: Number }) ramMb!: number | null;
  @ApiProperty({ nullable: true, type: Number }) pidsLimit!: number | null;
  @ApiProperty({
    enum: ['lxcfs', 'host', 'guest'],
    description: "What /proc shows inside: a container's own limits (lxcfs) or the host's; a VM's own kernel (guest)",
  })
  procView!: 'lxcfs' | 'host' | 'guest';
  @ApiProperty({ description: 'When the host read these back' }) readAt!: string;
}

class FaultView {
  @ApiProperty({ description: 'The step that failed' }) step!: string;
  @ApiProperty() message!: string;
  @ApiProperty() at!: string;
}

export const HOST_STATES = ['UP', 'DOWN', 'MAINTENANCE'] as const;
export type HostState = (typeof HOST_STATES)[number];

function hostStateOf(r: InstanceRecord, downAfterSec: number): HostState | null {
  if (r.hostName === null || r.hostSilentSec === null) return null;
  if (r.hostSilentSec > downAfterSec) return 'DOWN';
  return r.hostEnabled ? 'UP' : 'MAINTENANCE';
}

/** An address a port may also send from. */
export class AddressPairView {
  @ApiProperty({ example: '10.0.0.200', description: 'An IPv4 address or CIDR' }) ip!: string;
  @ApiProperty({ example: '02:be:00:00:00:01', description: "A MAC; on a request, by default the port's own" })
  mac!: string;
}

export class InstanceView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: INSTANCE_KINDS }) kind!: InstanceKind;
  @ApiProperty({ format: 'uuid' }) projectId!: string;
  @ApiProperty({ enum: INSTANCE_STATUSES }) status!: InstanceStatus;
  @ApiProperty({ enum: TASK_STATES, nullable: true, type: String }) taskState!: TaskState | null;
  @ApiProperty({ enum: POWER_STATES }) powerState!: PowerState;
  @ApiProperty({ nullable: true, type: String, description: 'Compute host name' }) host!: string | null;
  @ApiProperty({
    enum: HOST_STATES,
    nullable: true,
    description:
      "Its host's state, as Nova's host_status: UP, DOWN (no heartbeat for BERTH_HOST_DOWN_AFTER_SEC), " +
      'MAINTENANCE (disabled, e.g. draining); null without a host',
  })
  hostState!: HostState | null;
  @ApiProperty({ type: Ref, nullable: true }) network!: Ref | null;
  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description: 'Its host interface is "bvh" + the first 12 hex digits of this id',
  })
  portId!: string | null;
  @ApiProperty({ nullable: true, type: String }) ip!: string | null;
  @ApiProperty({ nullable: true, type: String }) mac!: string | null;
  @ApiProperty({ nullable: true, type: Number }) vlan!: number | null;
  @ApiProperty({ description: 'Its port admits only its own MAC and address and its allowed address pairs' })
  portSecurity!: boolean;
  @ApiProperty({ type: () => [AddressPairView] }) allowedAddressPairs!: AddressPairView[];
  @ApiProperty({ type: () => [SecurityGroupRef] }) securityGroups!: SecurityGroupRef[];
  @ApiProperty({ type: FlavorRef }) flavor!: FlavorRef;
  @ApiProperty({ type: ImageRef }) image!: ImageRef;
  @ApiProperty({ type: LimitsView, description: 'What the instance is promised: its flavor with its overrides' })
  limits!: LimitsView;
  @ApiProperty({
    type: AppliedLimitsView,
    nullable: true,
    description: 'What its host read back from the kernel and OVS after the last change; null while not running',
  })
  appliedLimits!: AppliedLimitsView | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
  @ApiProperty({ nullable: true, type: Date }) launchedAt!: Date | null;
  @ApiProperty({ enum: RESTART_POLICIES }) restartPolicy!: RestartPolicy;
  @ApiPropertyOptional({ type: FaultView, description: 'Present in status ERROR' }) fault?: Fault;

  static of(r: InstanceRecord, hostDownAfterSec: number): InstanceView {
    return {
      id: r.id,
      name: r.name,
      kind: r.kind,
      projectId: r.projectId,
      status: r.status,
      taskState: r.taskState,
      powerState: r.powerState,
      host: r.hostName,
      hostState: hostStateOf(r, hostDownAfterSec),
      network: r.networkId && r.networkName ? { id: r.networkId, name: r.networkName } : null,
      portId: r.portId,
      ip: r.ip,
      mac: r.mac,
      vlan: r.vlan,
      portSecurity: r.portSecurity ?? true,
      allowedAddressPairs: r.allowedAddressPairs ?? [],
      securityGroups: r.securityGroups,
      flavor: { id: r.flavorId, name: r.flavorName, vcpus: r.vcpus, ramMb: r.ramMb, diskGb: r.diskGb },
      image: { id: r.imageId, name: r.imageName, ref: r.imageRef },
      limits: instanceLimitsOf(r),
      appliedLimits: r.appliedLimits,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
      launchedAt: r.launchedAt,
      restartPolicy: r.restartPolicy,
      ...(r.status === 'ERROR' && r.fault ? { fault: r.fault } : {}),
    };
  }
}

export class InstancePage {
  @ApiProperty({ type: [InstanceView] }) items!: InstanceView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class InstanceBuild {
  @ApiProperty({ type: InstanceView }) instance!: InstanceView;
  @ApiProperty({ format: 'uuid', description: 'Poll GET /v1/operations/{id}' }) operationId!: string;
}

export class InstanceAccepted extends InstanceBuild {
  @ApiProperty({
    type: [InstanceBuild],
    description: 'Every instance of the request (one unless count, minCount or maxCount)',
  })
  instances!: InstanceBuild[];
}

export class OperationAccepted {
  @ApiProperty({ format: 'uuid', description: 'Poll GET /v1/operations/{id}' }) operationId!: string;
}

/** One move of an instance between hosts, as its record keeps it. */
export class MigrationView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) instanceId!: string;
  @ApiProperty({ format: 'uuid', description: 'The migrate (or evacuate) operation' }) operationId!: string;
  @ApiProperty({
    enum: MIGRATION_KINDS,
    description: 'migration (the source alive), or evacuation (rebuilt elsewhere from its image; its host was down)',
  })
  kind!: MigrationKind;
  @ApiProperty({ nullable: true, type: String, description: 'An evacuation: what the rebuild could not keep' })
  lost!: string | null;
  @ApiProperty({
    enum: MIGRATION_STATUSES,
    description:
      'queued, pre-migrating (source: stop, commit, push), migrating (target: pull), post-migrating (target: ' +
      'create, start), finished (awaiting confirm or revert), then confirmed or reverted; error when a step ' +
      'failed (it was reverted) or a clean-up did',
  })
  status!: MigrationStatus;
  @ApiProperty() sourceHost!: string;
  @ApiProperty({ nullable: true, type: String }) targetHost!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The host the admin named' }) requestedHost!: string | null;
  @ApiProperty({ description: 'Whether the instance ran before the move (it runs after it)' }) wasRunning!: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'Where the snapshot went (containers)' })
  snapshotRef!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The step that failed' }) failedStep!: string | null;
  @ApiProperty({ nullable: true, type: FaultView }) fault!: Fault | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;

  /** Field by field: what the record holds for the conductor (pending steps, claims, the parent) stays inside. */
  static of(r: MigrationRow): MigrationView {
    return {
      id: r.id,
      instanceId: r.instanceId,
      operationId: r.operationId,
      kind: r.kind,
      lost: r.lost,
      status: r.status,
      sourceHost: r.sourceHost,
      targetHost: r.targetHost,
      requestedHost: r.requestedHost,
      wasRunning: r.wasRunning,
      snapshotRef: r.snapshotRef,
      failedStep: r.failedStep,
      fault: r.fault,
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
    };
  }
}

export class MigrationList {
  @ApiProperty({ type: [MigrationView] }) items!: MigrationView[];
}
