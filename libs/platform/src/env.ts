import { IsIn, IsOptional, IsString, Matches } from 'class-validator';

/** Settings every Berth process reads: the queues and logging. */
export class BerthEnv {
  @Matches(/^rediss?:\/\//, { message: 'must be a redis:// URL' })
  BERTH_REDIS_URL = 'redis://127.0.0.1:6379';

  /** Key prefix, so that several Berth stacks (tests) can share one Redis. */
  @Matches(/^[a-z0-9_-]{1,32}$/, { message: 'must be 1-32 of a-z, 0-9, "_" and "-"' })
  BERTH_QUEUE_PREFIX = 'berth';

  @IsOptional()
  @IsString()
  @IsIn(['trace', 'debug', 'info', 'warn', 'error'])
  BERTH_LOG_LEVEL = 'info';

  /** Test-only fault injection: comma-separated failpoint names (see libs/platform/src/failpoints.ts). */
  @IsOptional()
  @Matches(/^([a-z0-9.-]+(=(throw|hang))?)?(,[a-z0-9.-]+(=(throw|hang))?)*$/, {
    message: 'must be comma-separated failpoint names, each optionally =throw or =hang',
  })
  BERTH_FAILPOINTS?: string;
}

/** The control plane (api, scheduler, migrate) also holds the database. Hosts never do. */
export class ControlPlaneEnv extends BerthEnv {
  @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' })
  BERTH_DATABASE_URL!: string;

  /**
   * The key secrets are sealed with at rest (hosts' SSH private keys): 32 random bytes in base64,
   * the same for the api and the scheduler. Unset: host enrollment is refused.
   */
  @IsOptional()
  @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'must be 32 bytes in base64 (openssl rand -base64 32)' })
  BERTH_SECRET_KEY?: string;
}
