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
    this.#refill();
    if (this.#tokens < count) return false;
    this.#tokens -= count;
    return true;
  }

  /**
   * Spends `count` whether there are that many or not, and says how many
   * milliseconds to wait before using them: a debt is paid back at the refill rate.
   */
  reserve(count: number): number {
    this.#refill();
    // A negative count gives tokens back, never beyond a full bucket.
    this.#tokens = Math.min(this.#burst, this.#tokens - count);
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.#ratePerSecond) * 1000;
  }

  /** Whether it is as full as a new bucket (and can be forgotten). */
  get full(): boolean {
    this.#refill();
    return this.#tokens >= this.#burst;
  }

  #refill(): void {
    const at = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((at - this.#refilledAt) / 1000) * this.#ratePerSecond);
    this.#refilledAt = at;
  }
}

/**
 * Token buckets by key (an address, a principal, a user in a room), made at
 * first use; `sweep` forgets those that are full again, as good as new.
 */
export class BucketsByKey {
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(private readonly settings: { ratePerSecond: number; burst: number }) {}

  of(key: string): TokenBucket {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.settings);
      this.#buckets.set(key, bucket);
    }
    return bucket;
  }

  sweep(): void {
    for (const [key, bucket] of this.#buckets) if (bucket.full) this.#buckets.delete(key);
  }
}
