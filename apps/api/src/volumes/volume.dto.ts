import { VOLUME_BACKENDS, VOLUME_STATUSES, type VolumeBackendName, type VolumeStatus } from '@berth/contracts';
import type { VolumeRow, VolumeTypeRow } from '@berth/data';
import { RESOURCE_NAME, RESOURCE_NAME_RULE, tenantHostId } from '@berth/domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  Equals,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  Min,
} from 'class-validator';

/** The largest volume one request makes or grows to, in GiB (16 TiB). */
export const MAX_VOLUME_GB = 16_384;

const sizeDoc = { minimum: 1, maximum: MAX_VOLUME_GB, description: 'GiB' };

export class CreateVolumeDto {
  @ApiProperty({ example: 'db-data', pattern: RESOURCE_NAME.source })
  @IsString()
  @Matches(RESOURCE_NAME, { message: `name must be ${RESOURCE_NAME_RULE}` })
  name!: string;

  @ApiProperty({ ...sizeDoc, example: 10 })
  @IsInt({ message: 'sizeGb must be a whole number of GiB' })
  @Min(1, { message: 'sizeGb must be at least 1' })
  @Max(MAX_VOLUME_GB, { message: `sizeGb must be at most ${MAX_VOLUME_GB}` })
  sizeGb!: number;

  @ApiPropertyOptional({ description: 'Volume type, id or name; default: the type the admin made the default' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  type?: string;

  @ApiPropertyOptional({ maxLength: 255 })
  @IsOptional()
  @IsString()
  @Length(0, 255, { message: 'description must be at most 255 characters' })
  description?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'An instance of the project: the volume is made on its host, so that it can be attached to it',
  })
  @IsOptional()
  @IsUUID('all', { message: 'localTo must be an instance id' })
  localTo?: string;

  @ApiPropertyOptional({ description: 'Availability zone to make it in' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  zone?: string;

  @ApiPropertyOptional({ description: "Project id or name (cloud admin only; default: the token's project)" })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  project?: string;
}

export class VolumeActionDto {
  @ApiProperty({ enum: ['extend'], description: 'extend: grow the volume to sizeGb (it must be available)' })
  @Equals('extend', { message: 'action must be extend' })
  action!: 'extend';

  @ApiProperty({ ...sizeDoc, description: 'extend: the new size in GiB, more than the current one' })
  @IsInt({ message: 'sizeGb must be a whole number of GiB' })
  @Min(1, { message: 'sizeGb must be at least 1' })
  @Max(MAX_VOLUME_GB, { message: `sizeGb must be at most ${MAX_VOLUME_GB}` })
  sizeGb!: number;
}

class VolumeFaultView {
  @ApiProperty() step!: string;
  @ApiProperty() message!: string;
  @ApiProperty() at!: string;
  @ApiPropertyOptional({ description: 'No valid host: the filter that turned down the most hosts' }) reason?: string;
}

class VolumeAttachmentView {
  @ApiProperty({ format: 'uuid' }) instanceId!: string;
  @ApiProperty() instanceName!: string;
  @ApiProperty({ nullable: true, type: String, description: "A container's mount point; null for a VM" })
  path!: string | null;
  @ApiProperty({ nullable: true, type: String, description: "The serial a VM's guest reads" }) serial!: string | null;
  @ApiProperty({ description: 'Deleted with the instance (by default it stays, available with its data)' })
  deleteOnTermination!: boolean;
}

export class VolumeView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ description: 'GiB' }) sizeGb!: number;
  @ApiProperty({ enum: VOLUME_STATUSES }) status!: VolumeStatus;
  @ApiProperty({ description: 'Its volume type' }) type!: string;
  @ApiProperty({ format: 'uuid' }) projectId!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description:
      "Where it lives, as the project sees it (Nova's hostId: the same for two of its resources on one host)",
  })
  hostId!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'The host (cloud admin only)' })
  host?: string | null;
  @ApiProperty({ nullable: true, type: String }) zone!: string | null;
  @ApiProperty({
    nullable: true,
    type: VolumeAttachmentView,
    description: 'The instance it is attached to (or being attached to or detached from)',
  })
  attachment!: VolumeAttachmentView | null;
  @ApiProperty({ nullable: true, type: VolumeFaultView, description: 'Why the last change failed' })
  fault!: VolumeFaultView | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
}

export class VolumeList {
  @ApiProperty({ type: [VolumeView] }) items!: VolumeView[];
}

export class VolumeAcceptedView extends VolumeView {
  @ApiProperty({ format: 'uuid', description: 'Poll GET /v1/operations/{id}' }) operationId!: string;
}

/** Field by field: the row is the data library's, the answer this view's. The host's name is the admin's. */
export function volumeView(v: VolumeRow, admin: boolean): VolumeView {
  return {
    id: v.id,
    name: v.name,
    description: v.description,
    sizeGb: v.sizeGb,
    status: v.status,
    type: v.typeName,
    projectId: v.projectId,
    hostId: v.hostId === null ? null : tenantHostId(v.projectId, v.hostId),
    ...(admin ? { host: v.hostName } : {}),
    zone: v.zone,
    attachment:
      v.instanceId && v.instanceName
        ? {
            instanceId: v.instanceId,
            instanceName: v.instanceName,
            path: v.attachPath,
            serial: v.serial,
            deleteOnTermination: v.deleteOnTermination,
          }
        : null,
    fault: v.fault
      ? {
          step: v.fault.step,
          message: v.fault.message,
          at: v.fault.at,
          ...(v.fault.reason ? { reason: v.fault.reason } : {}),
        }
      : null,
    createdAt: v.createdAt,
    updatedAt: v.updatedAt,
  };
}

const iopsDoc = { minimum: 1, nullable: true, type: Number };

export class CreateVolumeTypeDto {
  @ApiProperty({ example: 'fast', pattern: RESOURCE_NAME.source })
  @IsString()
  @Matches(RESOURCE_NAME, { message: `name must be ${RESOURCE_NAME_RULE}` })
  name!: string;

  @ApiPropertyOptional({ maxLength: 255 })
  @IsOptional()
  @IsString()
  @Length(0, 255, { message: 'description must be at most 255 characters' })
  description?: string;

  @ApiPropertyOptional({ enum: VOLUME_BACKENDS, description: 'Where its volumes are held (default: file)' })
  @IsOptional()
  @IsIn(VOLUME_BACKENDS, { message: `backend must be one of: ${VOLUME_BACKENDS.join(', ')}` })
  backend?: VolumeBackendName;

  @ApiPropertyOptional({ description: 'Volumes made without a type get this one (the old default stops being it)' })
  @IsOptional()
  @IsBoolean()
  isDefault?: boolean;

  @ApiPropertyOptional({ ...iopsDoc, description: 'Read IO/s a volume of it may do' })
  @IsOptional()
  @IsInt()
  @Min(10)
  @Max(1_000_000)
  readIops?: number;

  @ApiPropertyOptional({ ...iopsDoc, description: 'Write IO/s a volume of it may do' })
  @IsOptional()
  @IsInt()
  @Min(10)
  @Max(1_000_000)
  writeIops?: number;

  @ApiPropertyOptional({ ...iopsDoc, description: 'Read bytes/s' })
  @IsOptional()
  @IsInt()
  @Min(1_048_576)
  @Max(100_000_000_000)
  readBps?: number;

  @ApiPropertyOptional({ ...iopsDoc, description: 'Write bytes/s' })
  @IsOptional()
  @IsInt()
  @Min(1_048_576)
  @Max(100_000_000_000)
  writeBps?: number;
}

export class VolumeTypeView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ enum: VOLUME_BACKENDS }) backend!: VolumeBackendName;
  @ApiProperty() isDefault!: boolean;
  @ApiProperty({ nullable: true, type: Number, description: 'IO/s (null: unlimited)' }) readIops!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'IO/s (null: unlimited)' }) writeIops!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'bytes/s (null: unlimited)' }) readBps!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'bytes/s (null: unlimited)' }) writeBps!: number | null;
  @ApiProperty() createdAt!: Date;
}

export class VolumeTypeList {
  @ApiProperty({ type: [VolumeTypeView] }) items!: VolumeTypeView[];
}

export const volumeTypeView = (t: VolumeTypeRow): VolumeTypeView => ({
  id: t.id,
  name: t.name,
  description: t.description,
  backend: t.backend,
  isDefault: t.isDefault,
  readIops: t.readIops,
  writeIops: t.writeIops,
  readBps: t.readBps,
  writeBps: t.writeBps,
  createdAt: t.createdAt,
});
