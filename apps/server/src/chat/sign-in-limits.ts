import { RetryLaterError } from '@tether/protocol';
import type { RedisClient } from '@tether/server-core';
import { TRPCError } from '@trpc/server';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterStoreAbstract,
} from 'rate-limiter-flexible';

export interface SignInLimitSettings {
  /** Sign-ins and sign-ups one address may try per minute. */
  perAddressPerMinute: number;
  /** Wrong passwords for one username, from anywhere, before it is refused for the rest of 15 minutes. */
  failuresPerUsername: number;
}

export interface SignInLimits {
  /**
   * Counts an attempt from `address` (a sign-in or a sign-up) and refuses it
   * with TOO_MANY_REQUESTS, saying when to retry, past the address's rate or
   * while `username` has failed too often.
   */
  admit(address: string, username: string): Promise<void>;
  /** A wrong password for `username`. */
  failed(username: string): Promise<void>;
}

const FAILURE_WINDOW_SECONDS = 15 * 60;

function tooMany(what: string, msBeforeNext: number): TRPCError {
  const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  const message = `${what}: try again in ${seconds} s`;
  return new TRPCError({ code: 'TOO_MANY_REQUESTS', message, cause: new RetryLaterError(seconds * 1000, message) });
}

/**
 * Limits on signing in, across every process when given Redis (keys shared
 * by all), else in this process. While Redis is away each process counts on
 * its own (the insurance limiter), so the limits loosen by the number of
 * processes rather than vanish.
 */
export function createSignInLimits(settings: SignInLimitSettings, redis?: RedisClient): SignInLimits {
  const limiter = (keyPrefix: string, points: number, duration: number): RateLimiterAbstract => {
    const insuranceLimiter = new RateLimiterMemory({ keyPrefix, points, duration });
    if (!redis) return insuranceLimiter;
    const shared: RateLimiterStoreAbstract = new RateLimiterRedis({
      storeClient: redis,
      useRedisPackage: true,
      rejectIfRedisNotReady: true,
      keyPrefix: `tether:${keyPrefix}`,
      points,
      duration,
      insuranceLimiter,
    });
    return shared;
  };
  const perAddress = limiter('sign-in-address', settings.perAddressPerMinute, 60);
  const failures = limiter('sign-in-failures', settings.failuresPerUsername, FAILURE_WINDOW_SECONDS);

  return {
    async admit(address, username) {
      const recent = await failures.get(username);
      if (recent && recent.consumedPoints >= settings.failuresPerUsername) {
        throw tooMany(`too many wrong passwords for "${username}"`, recent.msBeforeNext);
      }
      try {
        await perAddress.consume(address);
      } catch (refusal) {
        if (refusal instanceof RateLimiterRes)
          throw tooMany('too many sign-in attempts from your address', refusal.msBeforeNext);
        throw refusal;
      }
    },
    async failed(username) {
      await failures.penalty(username);
    },
  };
}
