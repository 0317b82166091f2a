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
  /** The call the timer was armed for: once it fires, that call's time is up whatever the clock says. */
  #armedFor: T | undefined;
  #disposed = false;

  constructor(private readonly timeoutMs: number) {}

  add(call: T): void {
    if (this.#disposed) return;
    this.#dueAt.set(call, performance.now() + this.timeoutMs);
    if (this.#timer === undefined) this.#arm(call, this.timeoutMs);
  }

  delete(call: T): void {
    this.#dueAt.delete(call);
  }

  /** No call is expired from now on; the timer is gone. */
  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = undefined;
    this.#dueAt.clear();
  }

  #arm(call: T, ms: number): void {
    this.#armedFor = call;
    this.#timer = setTimeout(() => this.#expireDue(), ms);
  }

  #expireDue(): void {
    const armedFor = this.#armedFor;
    this.#timer = undefined;
    this.#armedFor = undefined;
    const now = performance.now();
    for (const [call, dueAt] of this.#dueAt) {
      // The clock only says how long to wait for the next call: a timer that has waited a call's timeout
      // expires it even when the clock disagrees (a test faking timers but not `performance`).
      if (dueAt > now && call !== armedFor) {
        this.#arm(call, dueAt - now);
        return;
      }
      this.#dueAt.delete(call);
      call.expire();
    }
  }
}
