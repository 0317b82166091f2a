/**
 * A token bucket: `burst` tokens, refilled at `ratePerSecond`. `take()` spends
 * one and says whether there was one. The clock is injected for tests.
 */
export function createTokenBucket(options: { ratePerSecond: number; burst: number; now?: () => number }) {
  const { ratePerSecond, burst, now = performance.now.bind(performance) } = options;
  let tokens = burst;
  let refilledAt = now();
  return {
    take(): boolean {
      const at = now();
      tokens = Math.min(burst, tokens + ((at - refilledAt) / 1000) * ratePerSecond);
      refilledAt = at;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}
