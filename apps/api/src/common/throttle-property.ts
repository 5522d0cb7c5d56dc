import type { ThrottleName } from '@berth/contracts';
import { THROTTLE_RULES } from '@berth/domain';
import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

const DESCRIPTIONS: Readonly<Record<ThrottleName, string>> = {
  cpuQuota: 'Percent of its vCPUs a shared instance may use (CFS quota); default 100',
  pidsLimit: "Most processes and threads at once; default: the cloud's BERTH_DEFAULT_PIDS_LIMIT",
  diskReadIops: 'Read IO operations per second on the disk under the instance',
  diskWriteIops: 'Write IO operations per second',
  diskReadBps: 'Read bytes per second',
  diskWriteBps: 'Write bytes per second',
  diskWeight: "Share of the disk under contention (blkiotune weight; BFQ); unset: the kernel's default",
  netIngressMbps: 'Traffic to the instance, Mbit/s (linux-htb QoS on its OVS port)',
  netEgressMbps: 'Traffic from the instance, Mbit/s (an OpenFlow meter or ingress policing)',
};

/** A flavor's throttle: optional, an integer within the cloud-wide rule; absent or null means none. */
export function ThrottleProperty(name: ThrottleName): PropertyDecorator {
  const rule = THROTTLE_RULES[name];
  return applyDecorators(
    ApiPropertyOptional({
      minimum: rule.min,
      maximum: rule.max,
      nullable: true,
      type: Number,
      description: `${DESCRIPTIONS[name]} (${rule.unit})`,
    }),
    IsOptional(),
    IsInt({ message: `${name} must be an integer` }),
    Min(rule.min, { message: `${name} must not be less than ${rule.min} (${rule.unit})` }),
    Max(rule.max, { message: `${name} must not be greater than ${rule.max} (${rule.unit})` }),
  );
}

/** The disk and network throttles as views show them (null: unlimited), shared by flavors and instances. */
export class DiskNetThrottlesView {
  @ApiProperty({ nullable: true, type: Number, description: 'IO/s' }) diskReadIops!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'IO/s' }) diskWriteIops!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'bytes/s' }) diskReadBps!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'bytes/s' }) diskWriteBps!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'relative weight (100-1000)' }) diskWeight!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Mbit/s to the instance' }) netIngressMbps!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Mbit/s from the instance' }) netEgressMbps!: number | null;
}
