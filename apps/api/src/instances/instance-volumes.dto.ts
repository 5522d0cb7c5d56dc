import { VOLUME_SERIAL_RULE } from '@berth/domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';

/** One volume an instance is built with (checked by checkVolumeRequests). */
export class VolumeRequestView {
  @ApiProperty({ format: 'uuid', description: 'The volume (its id)' })
  volume!: string;

  @ApiPropertyOptional({ example: '/data', description: 'A container: where it is mounted (absolute, plain)' })
  path?: string;

  @ApiPropertyOptional({ maxLength: 20, description: `A VM: the disk's serial (${VOLUME_SERIAL_RULE})` })
  serial?: string;

  @ApiPropertyOptional({ default: false, description: 'Deleted with the instance (by default it stays, available)' })
  deleteOnTermination?: boolean;
}

export class DeleteInstanceQuery {
  @ApiPropertyOptional({
    enum: ['true', 'false'],
    default: 'false',
    description: 'true: the volumes attached to the instance are deleted with it (by default they stay, available)',
  })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'deleteVolumes must be true or false' })
  deleteVolumes?: 'true' | 'false';
}
