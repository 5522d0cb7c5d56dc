import { RateLimited } from '@berth/domain';
import type { Logger } from '@berth/platform';
import IORedis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface RateLimitSettings {
  redisUrl: string;
  /** Redis key prefix: this stack's (BERTH_QUEUE_PREFIX). */
  prefix: string;
  /** Requests per minute for one token, and for one source address (0: no limit). */
  tokenPerMin: number;
  addressPerMin: number;
  /** Failed authentications one address may make per window (0: no limit). */
  authFailures: number;
  authWindowSec: number;
  exemptAdmin: boolean;
}

/** A limiter kept in Redis, so that every API process counts the same requests; in memory while Redis is away. */
function limiter(redis: IORedis, keyPrefix: string, points: number, duration: number): RateLimiterAbstract {
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix,
    points,
    duration,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration }),
  });
}

const retryAfter = (res: RateLimiterRes) => Math.max(1, Math.ceil(res.msBeforeNext / 1000));

/**
 * The API's request limits (429 with Retry-After): per token, per source address, and a stricter one on failed
 * authentications per address, which, once spent, refuses every authenticating request from there until the window
 * passes, so that guessing tokens or passwords is slow however many users an attacker tries.
 */
export class RateLimits {
  private readonly redis: IORedis;
  private readonly perToken: RateLimiterAbstract | null;
  private readonly perAddress: RateLimiterAbstract | null;
  private readonly failures: RateLimiterAbstract | null;

  constructor(
    private readonly settings: RateLimitSettings,
    private readonly log: Logger,
  ) {
    this.redis = new IORedis(settings.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.redis.on('error', (error: Error) => this.log.debug({ err: error.message }, 'rate limit store unavailable'));
    const key = (what: string) => `${settings.prefix}:rl:${what}`;
    this.perToken = settings.tokenPerMin > 0 ? limiter(this.redis, key('token'), settings.tokenPerMin, 60) : null;
    this.perAddress = settings.addressPerMin > 0 ? limiter(this.redis, key('addr'), settings.addressPerMin, 60) : null;
    this.failures =
      settings.authFailures > 0
        ? limiter(this.redis, key('fail'), settings.authFailures, settings.authWindowSec)
        : null;
  }

  /** Refuses an address whose failed authentications are spent, before any credential is looked at. */
  async beforeAuthentication(address: string): Promise<void> {
    if (!this.failures) return;
    const res = await this.failures.get(address);
    if (res && res.consumedPoints >= this.settings.authFailures) {
      throw new RateLimited('too many failed authentications from this address; try again later', retryAfter(res));
    }
  }

  /** Counts a failed authentication (a bad token or a failed login) against its address. */
  async failed(address: string): Promise<void> {
    await this.failures?.penalty(address, 1);
  }

  /** Counts a request against its token and its address; throws RateLimited past either limit. */
  async request(address: string, tokenId: string | null, cloudAdmin: boolean): Promise<void> {
    if (cloudAdmin && this.settings.exemptAdmin) return;
    const spent = await Promise.all([
      tokenId !== null ? consume(this.perToken, tokenId) : null,
      consume(this.perAddress, address),
    ]);
    const [token, addr] = spent;
    if (token) throw new RateLimited('too many requests with this token; try again later', retryAfter(token));
    if (addr) throw new RateLimited('too many requests from this address; try again later', retryAfter(addr));
  }

  close(): void {
    this.redis.disconnect();
  }
}

/** Takes one point; answers the limiter's state when the limit is passed, null while within it. */
async function consume(limit: RateLimiterAbstract | null, key: string): Promise<RateLimiterRes | null> {
  if (!limit) return null;
  try {
    await limit.consume(key);
    return null;
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return rejection;
    throw rejection;
  }
}
