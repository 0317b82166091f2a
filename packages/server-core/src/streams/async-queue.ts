/**
 * A push-to-pull queue: producers `push`, one consumer awaits `next`.
 * `next` resolves `null` once the signal aborts, so a consumer never hangs.
 */
export class AsyncQueue<T> {
  readonly #items: T[] = [];
  #waiter: ((item: T | null) => void) | null = null;
  readonly #signal: AbortSignal;

  constructor(signal: AbortSignal) {
    this.#signal = signal;
    signal.addEventListener('abort', () => this.#wake(null), { once: true });
  }

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    if (this.#signal.aborted) return;
    if (this.#waiter) this.#wake(item);
    else this.#items.push(item);
  }

  next(): Promise<T | null> {
    if (this.#signal.aborted) return Promise.resolve(null);
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift() as T);
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  #wake(item: T | null): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.(item);
  }
}
