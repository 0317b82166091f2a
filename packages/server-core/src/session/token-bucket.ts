/**
 * A token bucket: `burst` tokens, refilled at `ratePerSecond`. `take(n)` spends
 * n and says whether there were that many. The clock is injected for tests.
 */
export function createTokenBucket(options: { ratePerSecond: number; burst: number; now?: () => number }) {
  const { ratePerSecond, burst, now = performance.now.bind(performance) } = options;
  let tokens = burst;
  let refilledAt = now();
  return {
    take(count = 1): boolean {
      const at = now();
      tokens = Math.min(burst, tokens + ((at - refilledAt) / 1000) * ratePerSecond);
      refilledAt = at;
      if (tokens < count) return false;
      tokens -= count;
      return true;
    },
  };
}
