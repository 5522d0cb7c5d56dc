import { SchedulingEnv } from '@berth/control';
import { EnvInt, EnvNumber } from '@berth/platform';
import { IsInt, IsNumber, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

/** The scheduler's settings, read from the environment at start. */
export class SchedulerEnv extends SchedulingEnv {
  /** Allocation ratios a host starts with (Nova's initial_*_allocation_ratio). */
  @EnvNumber()
  @IsNumber()
  @Min(0.1)
  @Max(64)
  BERTH_CPU_ALLOCATION_RATIO = 4;

  /** Where /healthz, /readyz and /metrics are served; loopback unless a scraper elsewhere needs them. */
  @IsString()
  BERTH_METRICS_HOST = '127.0.0.1';

  /** 0: any free port (the process logs which). */
  @EnvInt()
  @IsInt()
  @Min(0)
  @Max(65535)
  BERTH_METRICS_PORT = 9101;

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

  /**
   * How long a placement or report job may go without its scheduler renewing its lock; after that
   * (the scheduler died) another scheduler, or this one restarted, takes the job again.
   */
  @EnvInt()
  @IsInt()
  @Min(2)
  @Max(600)
  BERTH_JOB_LOCK_SEC = 30;

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

  /** How stale the scheduler's copy of the hosts may get before it is read again in full. */
  @EnvInt()
  @IsInt()
  @Min(50)
  @Max(60_000)
  BERTH_HOST_CACHE_MS = 1000;

  /**
   * Confirm a migration by itself once it has awaited verification this long (Nova's
   * resize_confirm_window); 0: never, an operator confirms or reverts.
   */
  @EnvInt()
  @IsInt()
  @Min(0)
  @Max(30 * 86_400)
  BERTH_MIGRATION_AUTO_CONFIRM_SEC = 0;

  /**
   * The stuck-task watchdog: an operation with no progress (no step, no report) for this long is
   * failed and its task rolled back, so that no instance stays in a task state for ever. 0: off.
   */
  @EnvInt()
  @IsInt()
  @Min(0)
  @Max(7 * 86_400)
  BERTH_TASK_TIMEOUT_SEC = 900;

  /**
   * How long a workload or port leftover that no record owns (a stray) may stay on a host after it
   * is first seen before the host is told to remove it; 0: strays are reported, never removed.
   */
  @EnvInt()
  @IsInt()
  @Min(0)
  @Max(30 * 86_400)
  BERTH_STRAY_GRACE_SEC = 600;

  /** How often the watchdog looks. */
  @EnvInt()
  @IsInt()
  @Min(1)
  @Max(3600)
  BERTH_WATCHDOG_SEC = 30;

  /** The compute agent's program on enrolled hosts (default: this build's, as the hosts of one machine share it). */
  @IsOptional()
  @Matches(/^\/[^\0]*\.js$/, { message: "must be the absolute path of the agent's main.js" })
  BERTH_AGENT_PROGRAM?: string;

  /** Redis as enrolled agents reach it (default: BERTH_REDIS_URL). */
  @IsOptional()
  @Matches(/^rediss?:\/\//, { message: 'must be a redis:// URL' })
  BERTH_AGENT_REDIS_URL?: string;

  /** How often ended reservations are released. */
  @EnvInt()
  @IsInt()
  @Min(1)
  @Max(3600)
  BERTH_RESERVATION_SWEEP_SEC = 10;
}
