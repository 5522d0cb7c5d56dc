import type { ProjectEntity } from '@berth/data';
import { RESOURCE_NAME, RESOURCE_NAME_RULE, type QuotaSet } from '@berth/domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

export class CreateProjectDto {
  @ApiProperty({ example: 'shop', pattern: RESOURCE_NAME.source })
  @IsString()
  @Matches(RESOURCE_NAME, { message: `name must be ${RESOURCE_NAME_RULE}` })
  name!: string;
}

export class ProjectView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() createdAt!: Date;

  static of(p: ProjectEntity): ProjectView {
    return { id: p.id, name: p.name, createdAt: p.createdAt };
  }
}

export class ProjectList {
  @ApiProperty({ type: [ProjectView] }) items!: ProjectView[];
}

const LIMIT = 10_000_000;
const limitDoc = { minimum: -1, maximum: LIMIT, description: '-1: unlimited' };

/** New limits; resources left out keep theirs. -1 is unlimited. */
export class UpdateQuotasDto {
  @ApiPropertyOptional(limitDoc) @IsOptional() @IsInt() @Min(-1) @Max(LIMIT) instances?: number;
  @ApiPropertyOptional(limitDoc) @IsOptional() @IsInt() @Min(-1) @Max(LIMIT) vcpus?: number;
  @ApiPropertyOptional(limitDoc) @IsOptional() @IsInt() @Min(-1) @Max(LIMIT) ramMb?: number;
  @ApiPropertyOptional(limitDoc) @IsOptional() @IsInt() @Min(-1) @Max(LIMIT) diskGb?: number;
  @ApiPropertyOptional(limitDoc) @IsOptional() @IsInt() @Min(-1) @Max(LIMIT) ips?: number;
  @ApiPropertyOptional(limitDoc) @IsOptional() @IsInt() @Min(-1) @Max(LIMIT) volumes?: number;
  @ApiPropertyOptional(limitDoc) @IsOptional() @IsInt() @Min(-1) @Max(LIMIT) volumeGb?: number;
}

class QuotaLine {
  @ApiProperty({ description: '-1: unlimited' }) limit!: number;
  @ApiProperty({ description: 'Counted from the live instances, their ports and the volumes' }) used!: number;
}

export class QuotaView {
  @ApiProperty({ type: QuotaLine }) instances!: QuotaLine;
  @ApiProperty({ type: QuotaLine }) vcpus!: QuotaLine;
  @ApiProperty({ type: QuotaLine }) ramMb!: QuotaLine;
  @ApiProperty({ type: QuotaLine }) diskGb!: QuotaLine;
  @ApiProperty({ type: QuotaLine }) ips!: QuotaLine;
  @ApiProperty({ type: QuotaLine }) volumes!: QuotaLine;
  @ApiProperty({ type: QuotaLine, description: 'GiB of volumes' }) volumeGb!: QuotaLine;

  static of(limits: QuotaSet, usage: QuotaSet): QuotaView {
    const line = (r: keyof QuotaSet) => ({ limit: limits[r], used: usage[r] });
    return {
      instances: line('instances'),
      vcpus: line('vcpus'),
      ramMb: line('ramMb'),
      diskGb: line('diskGb'),
      ips: line('ips'),
      volumes: line('volumes'),
      volumeGb: line('volumeGb'),
    };
  }
}
