/** Bounds for reconnect delays. */
export interface RetryOptions {
  /** Delay ceiling for the first retry; doubles each attempt. @default 500 */
  baseMs: number;
  /** Absolute ceiling. @default 30_000 */
  maxMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { baseMs: 500, maxMs: 30_000 };

/**
 * Full jitter (docs/ARCHITECTURE.md): `random(0, min(maxMs, baseMs * 2^attempt))`, attempt
 * counted from 0. Spreading retries uniformly keeps a restarted server from
 * being hit by every client at once.
 */
export function fullJitterBackoff(attempt: number, retry: RetryOptions = DEFAULT_RETRY, random = Math.random): number {
  const ceiling = Math.min(retry.maxMs, retry.baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}
