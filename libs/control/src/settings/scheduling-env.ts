import type { PolicyOptions } from '@berth/domain';
import { ControlPlaneEnv, EnvInt, EnvNumber } from '@berth/platform';
import { IsInt, IsNumber, Matches, Max, Min } from 'class-validator';

/**
 * The scheduling policy, read by every process that decides or explains placement (the scheduler,
 * and the API for dry-runs and capacity), so that both always apply the same rules.
 */
export class SchedulingEnv extends ControlPlaneEnv {
  /** A host that has not sent a heartbeat for this long is down and leaves scheduling. */
  @EnvInt()
  @IsInt()
  @Min(5)
  @Max(3600)
  BERTH_HOST_DOWN_AFTER_SEC = 60;

  @EnvInt()
  @IsInt()
  @Min(1)
  @Max(10_000)
  BERTH_MAX_INSTANCES_PER_HOST = 50;

  /** The registry (host:port) cold-migration snapshots go through; every compute host must reach it. */
  @Matches(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, { message: 'must be a registry address such as 10.0.0.1:5000' })
  BERTH_SNAPSHOT_REGISTRY = '127.0.0.1:5000';

  /** Free-RAM weigher: positive spreads, negative packs, 0 ignores. */
  @EnvNumber()
  @IsNumber()
  @Min(-100)
  @Max(100)
  BERTH_WEIGHER_RAM = 1;

  @EnvNumber()
  @IsNumber()
  @Min(-100)
  @Max(100)
  BERTH_WEIGHER_VCPU = 1;

  /** Preference for a host that already holds the image. */
  @EnvNumber()
  @IsNumber()
  @Min(-100)
  @Max(100)
  BERTH_WEIGHER_IMAGE = 2;

  /** Weight of soft-affinity and soft-anti-affinity. */
  @EnvNumber()
  @IsNumber()
  @Min(0)
  @Max(100)
  BERTH_WEIGHER_SERVER_GROUP = 10;

  /** Pick at random among this many best hosts (Nova's host_subset_size). */
  @EnvInt()
  @IsInt()
  @Min(1)
  @Max(100)
  BERTH_HOST_SUBSET_SIZE = 3;

  /** Hosts kept to rebuild on when a build fails (Nova's alternates). */
  @EnvInt()
  @IsInt()
  @Min(0)
  @Max(10)
  BERTH_SCHEDULER_ALTERNATES = 2;
}

export function policyOptionsOf(env: SchedulingEnv): PolicyOptions {
  return {
    maxInstancesPerHost: env.BERTH_MAX_INSTANCES_PER_HOST,
    ramMultiplier: env.BERTH_WEIGHER_RAM,
    vcpuMultiplier: env.BERTH_WEIGHER_VCPU,
    imageMultiplier: env.BERTH_WEIGHER_IMAGE,
    groupMultiplier: env.BERTH_WEIGHER_SERVER_GROUP,
    subsetSize: env.BERTH_HOST_SUBSET_SIZE,
    alternates: env.BERTH_SCHEDULER_ALTERNATES,
  };
}
