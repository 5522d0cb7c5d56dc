import type { ImageEntity } from '@berth/db';
import { RESOURCE_NAME, RESOURCE_NAME_RULE } from '@berth/domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';

export const IMAGE_KINDS = ['container', 'vm'] as const;
export const VISIBILITIES = ['public', 'private'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

export class CreateImageDto {
  @ApiProperty({ example: 'busybox', pattern: RESOURCE_NAME.source })
  @IsString()
  @Matches(RESOURCE_NAME, { message: `name must be ${RESOURCE_NAME_RULE}` })
  name!: string;

  @ApiProperty({ enum: IMAGE_KINDS })
  @IsIn(IMAGE_KINDS, { message: `kind must be one of: ${IMAGE_KINDS.join(', ')}` })
  kind!: (typeof IMAGE_KINDS)[number];

  @ApiProperty({
    example: '127.0.0.1:5000/busybox:latest',
    description:
      'container: a Docker image reference. vm (cloud admin only): a directory on the hosts holding disk.qcow2, ' +
      'and vmlinuz (+ initrd.img) for direct kernel boot',
  })
  @IsString()
  @MaxLength(255)
  ref!: string;

  @ApiPropertyOptional({
    enum: VISIBILITIES,
    description: 'public: every project sees it (cloud admin only). Default: public for the admin, private otherwise',
  })
  @IsOptional()
  @IsIn(VISIBILITIES, { message: `visibility must be one of: ${VISIBILITIES.join(', ')}` })
  visibility?: Visibility;

  @ApiPropertyOptional({
    description: "For a private image: its project, id or name (cloud admin only; default: the token's project)",
  })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  project?: string;
}

export class ImageView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['container', 'vm'] }) kind!: 'container' | 'vm';
  @ApiProperty() ref!: string;
  @ApiProperty({ enum: VISIBILITIES }) visibility!: Visibility;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The owning project of a private image' })
  projectId!: string | null;
  @ApiProperty() createdAt!: Date;

  static of(i: ImageEntity): ImageView {
    return {
      id: i.id,
      name: i.name,
      kind: i.kind,
      ref: i.ref,
      visibility: i.projectId === null ? 'public' : 'private',
      projectId: i.projectId,
      createdAt: i.createdAt,
    };
  }
}

export class ImageList {
  @ApiProperty({ type: [ImageView] }) items!: ImageView[];
}
