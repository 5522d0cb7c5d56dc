import type { FlavorEntity } from '@berth/db';
import { RESOURCE_NAME, RESOURCE_NAME_RULE } from '@berth/domain';
import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Matches, Max, Min } from 'class-validator';

export class CreateFlavorDto {
  @ApiProperty({ example: 'm1.small', pattern: RESOURCE_NAME.source })
  @IsString()
  @Matches(RESOURCE_NAME, { message: `name must be ${RESOURCE_NAME_RULE}` })
  name!: string;

  @ApiProperty({ minimum: 1, maximum: 256, example: 1 })
  @IsInt()
  @Min(1)
  @Max(256)
  vcpus!: number;

  @ApiProperty({ minimum: 16, maximum: 1_048_576, example: 512 })
  @IsInt()
  @Min(16)
  @Max(1_048_576)
  ramMb!: number;

  @ApiProperty({ minimum: 0, maximum: 65_536, example: 5 })
  @IsInt()
  @Min(0)
  @Max(65_536)
  diskGb!: number;
}

export class FlavorView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() vcpus!: number;
  @ApiProperty() ramMb!: number;
  @ApiProperty() diskGb!: number;
  @ApiProperty() createdAt!: Date;

  static of(f: FlavorEntity): FlavorView {
    return { id: f.id, name: f.name, vcpus: f.vcpus, ramMb: f.ramMb, diskGb: f.diskGb, createdAt: f.createdAt };
  }
}

export class FlavorList {
  @ApiProperty({ type: [FlavorView] }) items!: FlavorView[];
}
