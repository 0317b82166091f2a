import { type Pushable, type PushRun, pushInto } from '@tether/protocol';

type Waiter<T> = { resolve(result: IteratorResult<T, undefined>): void; reject(cause: unknown): void };

/**
 * A pushable read as an async iterator, for consumers that pull (a test,
 * tRPC's own adapters, a procedure that maps another's stream). Like a
 * generator, it starts at the first `next`; items wait in order until asked
 * for; `return` stops the push. A consumer that stops reading must call
 * `return` (`for await` does on `break`).
 */
export function pushedToIterator<T>(stream: Pushable<T>): AsyncIterator<T, undefined> {
  const items: T[] = [];
  const waiters: Waiter<T>[] = [];
  let run: PushRun | null = null;
  let end: { failure: unknown } | null = null;
  const settle = () => {
    while (waiters.length > 0 && (items.length > 0 || end)) {
      const waiter = waiters.shift() as Waiter<T>;
      if (items.length > 0) {
        waiter.resolve({ done: false, value: items.shift() as T });
        continue;
      }
      const failure = end?.failure;
      // A failure is thrown once; the iterator is done after it.
      end = { failure: undefined };
      if (failure === undefined) waiter.resolve({ done: true, value: undefined });
      else waiter.reject(failure);
    }
  };
  const start = () => {
    run = stream[pushInto]({
      next(item) {
        if (end) return true;
        items.push(item);
        settle();
        return true;
      },
      error(cause) {
        end ??= { failure: cause ?? new Error('stream failed') };
        settle();
      },
      complete() {
        end ??= { failure: undefined };
        settle();
      },
    });
  };
  return {
    next() {
      const result = new Promise<IteratorResult<T, undefined>>((resolve, reject) => {
        waiters.push({ resolve, reject });
      });
      if (!run && !end) {
        try {
          start();
        } catch (cause) {
          end = { failure: cause ?? new Error('stream failed') };
        }
      }
      settle();
      return result;
    },
    async return() {
      run?.stop();
      end ??= { failure: undefined };
      items.length = 0;
      settle();
      return { done: true, value: undefined };
    },
  };
}
