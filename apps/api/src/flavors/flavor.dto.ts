import { CPU_POLICIES, THROTTLES, type CpuPolicy, type ThrottleName } from '@berth/contracts';
import type { FlavorEntity } from '@berth/data';
import { RESOURCE_NAME, RESOURCE_NAME_RULE, type FlavorThrottles, type ThrottleBounds } from '@berth/domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsObject, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { IsStringMap } from '../common/string-map';
import { DiskNetThrottlesView, ThrottleProperty } from '../common/throttle-property';

const BOUNDS_SCHEMA = {
  type: 'object',
  example: { netEgressMbps: { min: 10, max: 200 }, pidsLimit: { max: 4096 } },
  description:
    'Per throttle, the range a project member may choose for an instance (create or set-limits). ' +
    'A throttle without bounds is fixed by the flavor for members; admins may set any value',
  additionalProperties: {
    type: 'object',
    properties: { min: { type: 'integer' }, max: { type: 'integer' } },
  },
} as const;

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
    enum: CPU_POLICIES,
    default: 'shared',
    description: 'shared: vCPUs float over the host shared CPUs under a quota; dedicated: pinned to whole host CPUs',
  })
  @IsOptional()
  @IsIn(CPU_POLICIES, { message: `cpuPolicy must be one of: ${CPU_POLICIES.join(', ')}` })
  cpuPolicy?: CpuPolicy;

  @ThrottleProperty('cpuQuota') cpuQuota?: number | null;
  @ThrottleProperty('pidsLimit') pidsLimit?: number | null;
  @ThrottleProperty('diskReadIops') diskReadIops?: number | null;
  @ThrottleProperty('diskWriteIops') diskWriteIops?: number | null;
  @ThrottleProperty('diskReadBps') diskReadBps?: number | null;
  @ThrottleProperty('diskWriteBps') diskWriteBps?: number | null;
  @ThrottleProperty('diskWeight') diskWeight?: number | null;
  @ThrottleProperty('netIngressMbps') netIngressMbps?: number | null;
  @ThrottleProperty('netEgressMbps') netEgressMbps?: number | null;

  @ApiPropertyOptional(BOUNDS_SCHEMA)
  @IsOptional()
  @IsObject({ message: 'limitBounds must be an object' })
  limitBounds?: ThrottleBounds;

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

/** The throttles a create request set, unset ones as null. */
export function throttlesOf(dto: CreateFlavorDto): FlavorThrottles {
  const out = {} as Record<ThrottleName, number | null>;
  for (const name of THROTTLES) out[name] = dto[name] ?? null;
  return out;
}

export class FlavorView extends DiskNetThrottlesView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() vcpus!: number;
  @ApiProperty() ramMb!: number;
  @ApiProperty() diskGb!: number;
  @ApiProperty({ enum: CPU_POLICIES }) cpuPolicy!: CpuPolicy;
  @ApiProperty({ nullable: true, type: Number, description: 'null: 100' }) cpuQuota!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: "null: the cloud's default" }) pidsLimit!: number | null;
  @ApiProperty(BOUNDS_SCHEMA) limitBounds!: ThrottleBounds;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) extraSpecs!: Record<string, string>;
  @ApiProperty() createdAt!: Date;

  static of(f: FlavorEntity): FlavorView {
    const throttles = {} as Record<ThrottleName, number | null>;
    for (const name of THROTTLES) throttles[name] = f.throttles[name] ?? null;
    return {
      id: f.id,
      name: f.name,
      vcpus: f.vcpus,
      ramMb: f.ramMb,
      diskGb: f.diskGb,
      cpuPolicy: f.cpuPolicy,
      ...throttles,
      limitBounds: f.limitBounds,
      extraSpecs: f.extraSpecs,
      createdAt: f.createdAt,
    };
  }
}

export class FlavorList {
  @ApiProperty({ type: [FlavorView] }) items!: FlavorView[];
}
