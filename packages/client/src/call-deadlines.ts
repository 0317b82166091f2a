/** Something that can run out of time. */
export interface Expiring {
  expire(): void;
}

/**
 * The deadlines of one client's calls, on one timer. Every call has the same
 * timeout, so calls fall due in the order they were made, and a Map kept in
 * insertion order is the whole queue: the timer is armed for the oldest, and
 * when it fires it expires every call that is due and is armed again for the
 * next. A call answered in time only leaves the map; no timer is made or
 * cleared per call (a call's own `setTimeout` was a tenth of its client CPU).
 */
export class CallDeadlines<T extends Expiring> {
  /** Each waiting call, with when it falls due (`performance.now()` ms). */
  readonly #dueAt = new Map<T, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;

  constructor(private readonly timeoutMs: number) {}

  add(call: T): void {
    if (this.#disposed) return;
    this.#dueAt.set(call, performance.now() + this.timeoutMs);
    if (this.#timer === undefined) this.#arm(this.timeoutMs);
  }

  delete(call: T): void {
    this.#dueAt.delete(call);
  }

  /** No call is expired from now on; the timer is gone. */
  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#dueAt.clear();
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#expireDue(), ms);
  }

  #expireDue(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (const [call, dueAt] of this.#dueAt) {
      if (dueAt > now) {
        this.#arm(dueAt - now);
        return;
      }
      this.#dueAt.delete(call);
      call.expire();
    }
  }
}
