import { IMAGE_STATUSES, type ImageEntity, type ImageStatus } from '@berth/data';
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
      'container: a Docker image reference. vm (cloud admin only): its qcow2 disk, a path on the hosts or an ' +
      'http(s) URL they reach; each host caches it',
  })
  @IsString()
  @MaxLength(1024)
  ref!: string;

  @ApiPropertyOptional({
    example: '/var/lib/berth/images/test-vm/vmlinuz',
    description: 'vm: a kernel to boot directly (path or URL)',
  })
  @IsOptional()
  @IsString()
  kernelRef?: string;

  @ApiPropertyOptional({ description: 'vm, with kernelRef: its initrd (path or URL)' })
  @IsOptional()
  @IsString()
  initrdRef?: string;

  @ApiPropertyOptional({
    example: 'quiet',
    description: "vm, with kernelRef: more of the kernel's command line (Berth adds the console and the address)",
  })
  @IsOptional()
  @IsString()
  cmdline?: string;

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
  @ApiProperty({ nullable: true, type: String }) kernelRef!: string | null;
  @ApiProperty({ nullable: true, type: String }) initrdRef!: string | null;
  @ApiProperty({ nullable: true, type: String }) cmdline!: string | null;
  @ApiProperty({ enum: VISIBILITIES }) visibility!: Visibility;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The owning project of a private image' })
  projectId!: string | null;
  @ApiProperty({
    enum: IMAGE_STATUSES,
    description: 'saving: a snapshot of an instance still being made (not launchable yet); active: usable',
  })
  status!: ImageStatus;
  @ApiProperty({ nullable: true, type: Number, description: "A snapshot's size in the registry, bytes" })
  sizeBytes!: number | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The instance a snapshot was made from' })
  sourceInstanceId!: string | null;
  @ApiProperty() createdAt!: Date;

  static of(i: ImageEntity): ImageView {
    return {
      id: i.id,
      name: i.name,
      kind: i.kind,
      ref: i.ref,
      kernelRef: i.kernelRef,
      initrdRef: i.initrdRef,
      cmdline: i.cmdline,
      visibility: i.projectId === null ? 'public' : 'private',
      projectId: i.projectId,
      status: i.status,
      sizeBytes: i.sizeBytes,
      sourceInstanceId: i.sourceInstanceId,
      createdAt: i.createdAt,
    };
  }
}

export class ImageList {
  @ApiProperty({ type: [ImageView] }) items!: ImageView[];
}
