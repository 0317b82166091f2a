import { isIPv6 } from 'node:net';
import type { RedisClient } from '@tether/server-core';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { limiterFactory, takePoint } from './rate-limiter';

export interface SignInLimitSettings {
  /** Sign-ins and sign-ups one address may try per minute. */
  perAddressPerMinute: number;
  /** Wrong passwords for one username from one address, within 15 minutes. */
  failuresPerUsernameAndAddress: number;
  /**
   * Wrong passwords for one username from anywhere, within 15 minutes: higher,
   * so that locking someone out takes many addresses, not one.
   */
  failuresPerUsername: number;
}

/** Limits refuse with TOO_MANY_REQUESTS, saying when to retry. */
export interface SignInLimits {
  /** Counts a sign-up from `address`. */
  admitSignUp(address: string): Promise<void>;
  /**
   * Counts a sign-in from `address` as `username`, and a wrong password ahead
   * of the check, so that concurrent guesses cannot all slip in under the
   * limit; `notAWrongPassword` gives that back (the password was right, or never checked).
   */
  admitSignIn(address: string, username: string): Promise<{ notAWrongPassword(): Promise<void> }>;
}

/** The label a refusal is counted under in `tether_limit_refusals_total`. */
export type SignInLimit = 'sign_in_address' | 'sign_in_failures';

const FAILURE_WINDOW_SECONDS = 15 * 60;

/** One IPv6 host holds a whole /64: counting its addresses apart would give it 2^64 allowances. */
export function addressKey(address: string): string {
  const bare = address.split('%')[0] ?? address;
  if (!isIPv6(bare)) return bare;
  const [head = '', tail] = bare.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}

/** Limits on signing in, across every process when given Redis (see `limiterFactory`). */
export function createSignInLimits(
  settings: SignInLimitSettings,
  options: { redis?: RedisClient; onRefused?(limit: SignInLimit): void } = {},
): SignInLimits {
  const { redis, onRefused } = options;
  const limiter = limiterFactory(redis);
  const perAddress = limiter('sign-in-address', settings.perAddressPerMinute, 60);
  const perPair = limiter('sign-in-failures-pair', settings.failuresPerUsernameAndAddress, FAILURE_WINDOW_SECONDS);
  const perUsername = limiter('sign-in-failures', settings.failuresPerUsername, FAILURE_WINDOW_SECONDS);

  /** Takes a point from `limiter` for `key`, or refuses the attempt. */
  const take = (limiter: RateLimiterAbstract, key: string, refusal: string, limit: SignInLimit) =>
    takePoint(limiter, key, refusal, () => onRefused?.(limit));

  const tooManyFrom = 'too many sign-in attempts from your address';
  return {
    async admitSignUp(address) {
      await take(perAddress, addressKey(address), tooManyFrom, 'sign_in_address');
    },
    async admitSignIn(address, username) {
      const from = addressKey(address);
      const pair = `${username}\u0000${from}`;
      const wrongPasswords = `too many wrong passwords for "${username}"`;
      await take(perAddress, from, tooManyFrom, 'sign_in_address');
      await take(perPair, pair, wrongPasswords, 'sign_in_failures');
      try {
        await take(perUsername, username, wrongPasswords, 'sign_in_failures');
      } catch (error) {
        await perPair.reward(pair);
        throw error;
      }
      return {
        notAWrongPassword: async () => void (await Promise.all([perPair.reward(pair), perUsername.reward(username)])),
      };
    },
  };
}
