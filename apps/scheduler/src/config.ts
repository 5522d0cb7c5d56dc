import { ControlPlaneEnv, EnvInt, EnvNumber } from '@berth/platform';
import { IsInt, IsNumber, Max, Min } from 'class-validator';

/** The scheduler's settings, read from the environment at start. */
export class SchedulerEnv extends ControlPlaneEnv {
  /** A host that has not sent a heartbeat for this long is down and leaves scheduling. */
  @EnvInt()
  @IsInt()
  @Min(5)
  @Max(3600)
  BERTH_HOST_DOWN_AFTER_SEC = 60;

  /** Allocation ratios a host starts with (Nova's initial_*_allocation_ratio). */
  @EnvNumber()
  @IsNumber()
  @Min(0.1)
  @Max(64)
  BERTH_CPU_ALLOCATION_RATIO = 4;

  @EnvNumber()
  @IsNumber()
  @Min(0.1)
  @Max(8)
  BERTH_RAM_ALLOCATION_RATIO = 1;

  @EnvNumber()
  @IsNumber()
  @Min(0.1)
  @Max(8)
  BERTH_DISK_ALLOCATION_RATIO = 1;

  @EnvInt()
  @IsInt()
  @Min(1)
  @Max(256)
  BERTH_PLACEMENT_CONCURRENCY = 8;

  @EnvInt()
  @IsInt()
  @Min(1)
  @Max(256)
  BERTH_REPORTS_CONCURRENCY = 16;

  /** How often host capacity counters are checked against their allocations (and repaired). */
  @EnvInt()
  @IsInt()
  @Min(10)
  @Max(86_400)
  BERTH_USAGE_AUDIT_SEC = 300;
}
