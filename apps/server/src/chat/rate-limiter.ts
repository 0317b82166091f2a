import { retryLater, tooManyRequests } from '@tether/protocol';
import type { RedisClient } from '@tether/server-core';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  RLWrapperTimeouts,
} from 'rate-limiter-flexible';

/** A Redis that answers slower than this is passed over for the process's own count, so no call hangs on it. */
const REDIS_TIMEOUT_MS = 250;

/** `points` per `durationSeconds` for each key. */
type LimiterFactory = (keyPrefix: string, points: number, durationSeconds: number) => RateLimiterAbstract;

/**
 * Limiters counted across every process when given Redis (keys shared by
 * all), else in this process. While Redis is away or slow each process counts
 * on its own (the insurance limiter), so a limit loosens by the number of
 * processes rather than vanishes.
 */
export function limiterFactory(redis: RedisClient | undefined): LimiterFactory {
  return (keyPrefix, points, duration) => {
    const insuranceLimiter = new RateLimiterMemory({ keyPrefix, points, duration });
    if (!redis) return insuranceLimiter;
    const shared = new RateLimiterRedis({
      storeClient: redis,
      useRedisPackage: true,
      rejectIfRedisNotReady: true,
      keyPrefix: `tether:${keyPrefix}`,
      points,
      duration,
      insuranceLimiter,
    });
    return new RLWrapperTimeouts({ limiter: shared, timeoutMs: REDIS_TIMEOUT_MS, insuranceLimiter });
  };
}

/** Takes a point from `limiter` for `key`, or throws TOO_MANY_REQUESTS for `refusal` after calling `onRefused`. */
export async function takePoint(
  limiter: RateLimiterAbstract,
  key: string,
  refusal: string,
  onRefused?: () => void,
): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (refused) {
    if (!(refused instanceof RateLimiterRes)) throw refused;
    onRefused?.();
    throw tooManyRequests(retryLater(refusal, refused.msBeforeNext));
  }
}
