import type { Pushable } from '@tether/protocol';
import { pushInto } from '@tether/protocol';

/**
 * A pushable read as an async iterator, for consumers that pull (a test, a
 * procedure that maps another's stream). Items wait in order until asked for;
 * `return` stops the push.
 */
export function pushedToIterator<T>(stream: Pushable<T>): AsyncIterator<T, undefined> {
  const items: T[] = [];
  let end: { failure: unknown } | null = null;
  let waiter: { resolve(result: IteratorResult<T, undefined>): void; reject(cause: unknown): void } | null = null;
  const settle = () => {
    const current = waiter;
    if (!current) return;
    if (items.length > 0) {
      waiter = null;
      current.resolve({ done: false, value: items.shift() as T });
    } else if (end) {
      waiter = null;
      const { failure } = end;
      // A failure is thrown once; the iterator is done after it.
      end = { failure: undefined };
      if (failure === undefined) current.resolve({ done: true, value: undefined });
      else current.reject(failure);
    }
  };
  const run = stream[pushInto]({
    next(item) {
      if (end) return;
      items.push(item);
      settle();
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
  return {
    next: () =>
      new Promise((resolve, reject) => {
        waiter = { resolve, reject };
        settle();
      }),
    async return() {
      run.stop();
      end ??= { failure: undefined };
      items.length = 0;
      settle();
      return { done: true, value: undefined };
    },
  };
}
