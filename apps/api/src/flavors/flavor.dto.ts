import type { FlavorEntity } from '@berth/db';
import { RESOURCE_NAME, RESOURCE_NAME_RULE } from '@berth/domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { IsStringMap } from '../common/string-map';

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

  @ApiPropertyOptional({
    example: { 'aggregate:disk': 'ssd' },
    description: 'Scheduling hints: aggregate:<key>=<value> needs a host in an aggregate with that metadata',
    type: 'object',
    additionalProperties: { type: 'string' },
  })
  @IsOptional()
  @IsStringMap()
  extraSpecs?: Record<string, string>;
}

export class FlavorView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() vcpus!: number;
  @ApiProperty() ramMb!: number;
  @ApiProperty() diskGb!: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) extraSpecs!: Record<string, string>;
  @ApiProperty() createdAt!: Date;

  static of(f: FlavorEntity): FlavorView {
    return {
      id: f.id,
      name: f.name,
      vcpus: f.vcpus,
      ramMb: f.ramMb,
      diskGb: f.diskGb,
      extraSpecs: f.extraSpecs,
      createdAt: f.createdAt,
    };
  }
}

export class FlavorList {
  @ApiProperty({ type: [FlavorView] }) items!: FlavorView[];
}
