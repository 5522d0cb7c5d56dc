import type { QuotaSet } from '@berth/domain';
import { SchedulingEnv } from '@berth/control';
import { EnvBoolean, EnvInt } from '@berth/platform';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

/** The API's settings, read from the environment at start. */
export class ApiEnv extends SchedulingEnv {
  @IsString()
  BERTH_API_HOST = '127.0.0.1';

  @EnvInt()
  @IsInt()
  @Min(0)
  @Max(65535)
  BERTH_API_PORT = 8080;

  /** The bootstrap admin's token. If unset, one is generated at first start and written to BERTH_ADMIN_TOKEN_FILE. */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{32,128}$/, { message: 'must be 32-128 characters of A-Z, a-z, 0-9, "_" and "-"' })
  BERTH_ADMIN_TOKEN?: string;

  @IsString()
  BERTH_ADMIN_TOKEN_FILE = '.berth/admin-token';

  /**
   * Registries (host[:port], comma-separated) a project member's container image may come from; a cloud
   * admin may register any. "*": any registry. Default: deploy/up.sh's registry.
   */
  @Matches(/^(\*|[A-Za-z0-9.-]+(:\d{1,5})?(,[A-Za-z0-9.-]+(:\d{1,5})?)*)$/, {
    message: 'must be "*" or registries as host[:port], comma-separated',
  })
  BERTH_MEMBER_REGISTRIES = '127.0.0.1:5000';

  get memberRegistries(): readonly string[] | null {
    return this.BERTH_MEMBER_REGISTRIES === '*' ? null : this.BERTH_MEMBER_REGISTRIES.split(',');
  }

  /** pids limit given to every container unless its flavor says otherwise. */
  @EnvInt()
  @IsInt()
  @Min(16)
  @Max(1_000_000)
  BERTH_DEFAULT_PIDS_LIMIT = 1024;

  @EnvInt()
  @IsInt()
  @Min(2)
  @Max(200)
  BERTH_DB_POOL_SIZE = 20;

  /** How long GET /v1/instances/:id/console waits for the instance's host to answer. */
  @EnvInt()
  @IsInt()
  @Min(100)
  @Max(60_000)
  BERTH_CONSOLE_TIMEOUT_MS = 10_000;

  /** How long GET /v1/events keeps history a client can resume from (Last-Event-ID). */
  @EnvInt()
  @IsInt()
  @Min(60)
  @Max(90 * 24 * 3600)
  BERTH_EVENT_RETENTION_SEC = 24 * 3600;

  /** How often an open event stream's token is checked again; a revoked or expired token's streams end. */
  @EnvInt()
  @IsInt()
  @Min(1)
  @Max(3600)
  BERTH_EVENT_TOKEN_CHECK_SEC = 15;

  /** Quota a project has until an admin sets its own (-1: unlimited). */
  @EnvInt()
  @IsInt()
  @Min(-1)
  BERTH_QUOTA_INSTANCES = 20;

  @EnvInt()
  @IsInt()
  @Min(-1)
  BERTH_QUOTA_VCPUS = 40;

  @EnvInt()
  @IsInt()
  @Min(-1)
  BERTH_QUOTA_RAM_MB = 51_200;

  @EnvInt()
  @IsInt()
  @Min(-1)
  BERTH_QUOTA_DISK_GB = 1000;

  @EnvInt()
  @IsInt()
  @Min(-1)
  BERTH_QUOTA_IPS = 50;

  /** Volumes a project may hold, and their sizes' sum in GiB (Cinder's volumes and gigabytes). */
  @EnvInt()
  @IsInt()
  @Min(-1)
  BERTH_QUOTA_VOLUMES = 10;

  @EnvInt()
  @IsInt()
  @Min(-1)
  BERTH_QUOTA_VOLUME_GB = 1000;

  /** Security groups a project may hold (the default group included); a project's own limit overrides it. */
  @EnvInt()
  @IsInt()
  @Min(-1)
  BERTH_QUOTA_SECURITY_GROUPS = 10;

  /** How long a token from a password login works (12 h). */
  @EnvInt()
  @IsInt()
  @Min(60)
  BERTH_TOKEN_TTL_SEC = 43_200;

  /** Wrong passwords in a row that lock a user out of password logins (0: never). */
  @EnvInt()
  @IsInt()
  @Min(0)
  BERTH_LOGIN_MAX_FAILURES = 5;

  /** How long such a lock-out lasts. */
  @EnvInt()
  @IsInt()
  @Min(1)
  BERTH_LOGIN_LOCKOUT_SEC = 300;

  /** Requests one token may make per minute (0: no limit); past it, 429 with Retry-After. */
  @EnvInt()
  @IsInt()
  @Min(0)
  BERTH_RATE_TOKEN_PER_MIN = 1200;

  /** Requests one source address may make per minute, whatever the token (0: no limit). */
  @EnvInt()
  @IsInt()
  @Min(0)
  BERTH_RATE_ADDRESS_PER_MIN = 3000;

  /**
   * Failed authentications (bad, expired or revoked tokens, failed logins) one source address may make per
   * BERTH_RATE_AUTH_WINDOW_SEC (0: no limit); past it, every request from there that authenticates answers 429.
   */
  @EnvInt()
  @IsInt()
  @Min(0)
  BERTH_RATE_AUTH_FAILURES = 20;

  @EnvInt()
  @IsInt()
  @Min(1)
  @Max(24 * 3600)
  BERTH_RATE_AUTH_WINDOW_SEC = 300;

  /** Whether cloud-admin tokens skip the per-token and per-address limits (failed logins stay limited). */
  @EnvBoolean()
  @IsBoolean()
  BERTH_RATE_EXEMPT_ADMIN = false;

  /**
   * Load balancers (addresses or CIDRs, comma-separated) whose X-Forwarded-For names the client's address, which the
   * request limits count by. Empty: the peer's address.
   */
  @Matches(/^([0-9a-fA-F.:/]+(,[0-9a-fA-F.:/]+)*)?$/, { message: 'must be addresses or CIDRs, comma-separated' })
  BERTH_TRUSTED_PROXIES = '';

  get trustedProxies(): readonly string[] {
    return this.BERTH_TRUSTED_PROXIES === '' ? [] : this.BERTH_TRUSTED_PROXIES.split(',');
  }

  /**
   * The URL clients reach this API at, which OpenStack's catalog and version documents link to (behind a load
   * balancer, its URL). Empty: the scheme and Host of each request.
   */
  @Matches(/^(https?:\/\/[^\s]+)?$/, { message: 'must be empty or an http(s):// URL' })
  BERTH_PUBLIC_URL = '';

  /**
   * The web console's built files (`npm run build:web`), served under `/`. Empty: dist/web beside the API's own
   * build; a directory without index.html: no console.
   */
  @IsString()
  BERTH_WEB_DIR = '';

  /** The region OpenStack's catalog names. */
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'must be 1-64 of A-Z, a-z, 0-9, "_" and "-"' })
  BERTH_REGION = 'RegionOne';

  /** Event streams one token may hold open at once, per API process; one more answers 429. */
  @EnvInt()
  @IsInt()
  @Min(1)
  @Max(10_000)
  BERTH_STREAMS_PER_TOKEN = 8;

  /** Security group rules a project may hold, over all its groups. */
  @EnvInt()
  @IsInt()
  @Min(-1)
  BERTH_QUOTA_SECURITY_GROUP_RULES = 100;

  get quotaDefaults(): QuotaSet {
    return {
      instances: this.BERTH_QUOTA_INSTANCES,
      vcpus: this.BERTH_QUOTA_VCPUS,
      ramMb: this.BERTH_QUOTA_RAM_MB,
      diskGb: this.BERTH_QUOTA_DISK_GB,
      ips: this.BERTH_QUOTA_IPS,
      volumes: this.BERTH_QUOTA_VOLUMES,
      volumeGb: this.BERTH_QUOTA_VOLUME_GB,
    };
  }
}
