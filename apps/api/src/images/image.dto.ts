import type { ImageEntity } from '@berth/db';
import { DOCKER_REFERENCE, DOCKER_REFERENCE_RULE, RESOURCE_NAME, RESOURCE_NAME_RULE } from '@berth/domain';
import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, Matches, MaxLength } from 'class-validator';

/** Image kinds this API accepts today; "vm" joins with the libvirt driver. */
export const IMAGE_KINDS = ['container'] as const;

export class CreateImageDto {
  @ApiProperty({ example: 'busybox', pattern: RESOURCE_NAME.source })
  @IsString()
  @Matches(RESOURCE_NAME, { message: `name must be ${RESOURCE_NAME_RULE}` })
  name!: string;

  @ApiProperty({ enum: IMAGE_KINDS })
  @IsIn(IMAGE_KINDS, { message: `kind must be one of: ${IMAGE_KINDS.join(', ')}` })
  kind!: (typeof IMAGE_KINDS)[number];

  @ApiProperty({ example: '127.0.0.1:5000/busybox:latest', description: 'Docker image reference' })
  @IsString()
  @MaxLength(255)
  @Matches(DOCKER_REFERENCE, { message: `ref must be ${DOCKER_REFERENCE_RULE}` })
  ref!: string;
}

export class ImageView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['container', 'vm'] }) kind!: 'container' | 'vm';
  @ApiProperty() ref!: string;
  @ApiProperty() createdAt!: Date;

  static of(i: ImageEntity): ImageView {
    return { id: i.id, name: i.name, kind: i.kind, ref: i.ref, createdAt: i.createdAt };
  }
}

export class ImageList {
  @ApiProperty({ type: [ImageView] }) items!: ImageView[];
}
