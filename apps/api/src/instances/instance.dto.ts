import { applyDecorators } from '@nestjs/common';
import { THROTTLES, type InstanceKind } from '@berth/contracts';
import {
  METADATA_MAX_ITEMS,
  METADATA_MAX_LENGTH,
  INSTANCE_NAME,
  INSTANCE_NAME_RULE,
  MAX_ADDRESS_PAIRS,
  RESOURCE_NAME,
  RESOURCE_NAME_RULE,
  LIMIT_ACTIONS,
  MIGRATION_ACTIONS,
  POWER_ACTIONS,
  RESTART_POLICIES,
  MAX_BUILD_VOLUMES,
  VOLUME_SERIAL,
  VOLUME_SERIAL_RULE,
  type RestartPolicy,
  type LimitAction,
  type MigrationAction,
  type ThrottleChanges,
  type PowerAction,
} from '@berth/domain';
import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import {
  Allow,
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
import { VolumeRequestView } from './instance-volumes.dto';

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
    type: () => [VolumeRequestView],
    maxItems: MAX_BUILD_VOLUMES,
    description:
      'Volumes of the project to build a single instance with: each available, all on one host, where the ' +
      'instance then lands (no valid host names the volume otherwise). A container mounts each at its path, a VM ' +
      'sees each as a disk with its serial',
  })
  @IsOptional()
  @IsArray({ message: 'volumes must be a list of {volume, path?, serial?}' })
  volumes?: unknown[];

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

  /** Checked by checkMetadata, which names the field and the rule. */
  @Allow()
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string', maxLength: METADATA_MAX_LENGTH },
    example: { role: 'web' },
    description: `Your own key-value pairs (at most ${METADATA_MAX_ITEMS}; keys 1-${METADATA_MAX_LENGTH} characters, values up to ${METADATA_MAX_LENGTH})`,
  })
  metadata?: unknown;

  @ApiPropertyOptional({
    example: 'laptop',
    description: "One of your key pairs by name: its public key becomes the instance's authorized key",
  })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  keyName?: string;
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
  'attach',
  'detach',
  'snapshot',
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

export class InstanceActionDto {
  @ApiProperty({
    enum: ACTIONS,
    description:
      'stop, start, reboot; resize (to `flavor`, live on the same host) or set-limits (`limits`). ' +
      'A resize or set-limits the host lacks room for answers 409 and changes nothing. ' +
      'Admin: migrate (cold, to `host` or where the scheduler chooses), then confirm or revert. A resize asked ' +
      "with `verify` is its owner's to confirm or revert. " +
      'set-security-groups: the port is in exactly `securityGroups` from now on (its host applies them live). ' +
      'set-port-security: the port may send from `allowedAddressPairs` from now on; `portSecurity` (admin) switches ' +
      'its checks off or on. attach: the `volume` (on the same host) at `path` (a container) or with `serial` (a ' +
      'VM); detach: the `volume`. snapshot: a new private image `name` of the instance, launchable once its ' +
      'operation succeeds',
  })
  @IsIn(ACTIONS, { message: `action must be one of: ${ACTIONS.join(', ')}` })
  action!:
    | PowerAction
    | LimitAction
    | MigrationAction
    | 'set-security-groups'
    | 'set-port-security'
    | 'attach'
    | 'detach'
    | 'snapshot';

  @ApiPropertyOptional({ example: 'web-golden', description: `snapshot: the new image's name: ${RESOURCE_NAME_RULE}` })
  @IsOptional()
  @Matches(RESOURCE_NAME, { message: `name must be ${RESOURCE_NAME_RULE}` })
  name?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'attach, detach: the volume (its id)' })
  @IsOptional()
  @IsUUID('all', { message: 'volume must be a volume id' })
  volume?: string;

  @ApiPropertyOptional({
    example: '/data',
    maxLength: 255,
    description:
      'attach to a container: where it is mounted (absolute; not /, nor under /proc, /sys, /dev or /run/berth)',
  })
  @IsOptional()
  @IsString()
  @Length(2, 255, { message: 'path must be 2 to 255 characters' })
  path?: string;

  @ApiPropertyOptional({
    maxLength: 20,
    description: "attach to a VM: the disk's serial its guest reads (default: the volume's id, as much as fits)",
  })
  @IsOptional()
  @Matches(VOLUME_SERIAL, { message: `serial must be ${VOLUME_SERIAL_RULE}` })
  serial?: string;

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

  @ApiPropertyOptional({
    description:
      "resize, as Nova's: the new size applies and the instance waits in VERIFY_MIGRATION, its old size still " +
      'held on the host, until its owner confirms (the old size is given back) or reverts (the old size applies ' +
      'again); the scheduler confirms it after BERTH_MIGRATION_AUTO_CONFIRM_SEC when that is set',
  })
  @IsOptional()
  @IsBoolean({ message: 'verify must be a boolean' })
  verify?: boolean;

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

export class AddressPairView {
  @ApiProperty({ example: '10.0.0.200', description: 'An IPv4 address or CIDR' }) ip!: string;
  @ApiProperty({ example: '02:be:00:00:00:01', description: "A MAC; on a request, by default the port's own" })
  mac!: string;
}
