const clock = () => performance.now();

/**
 * A token bucket: `burst` tokens, refilled at `ratePerSecond`. `take(n)` spends
 * n and says whether there were that many. The clock is injected for tests.
 * A class: one per connection, so nothing per instance but its fields.
 */
export class TokenBucket {
  readonly #ratePerSecond: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #refilledAt: number;

  constructor(options: { ratePerSecond: number; burst: number; now?: () => number }) {
    this.#ratePerSecond = options.ratePerSecond;
    this.#burst = options.burst;
    this.#now = options.now ?? clock;
    this.#tokens = options.burst;
    this.#refilledAt = this.#now();
  }

  take(count = 1): boolean {
    const at = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((at - this.#refilledAt) / 1000) * this.#ratePerSecond);
    this.#refilledAt = at;
    if (this.#tokens < count) return false;
    this.#tokens -= count;
    return true;
  }
}
