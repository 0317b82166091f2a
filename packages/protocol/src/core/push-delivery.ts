/**
 * Subscriptions delivered by push. An async iterable costs each subscriber a
 * promise (or a chain of them) per item and a suspended generator while it is
 * quiet. A subscription procedure may instead return a stream that can also
 * push (`Pushable`): the session core hands it a sink and the stream calls it
 * directly, with no promise per item and nothing suspended while it is quiet.
 * Anyone else (tRPC's own adapters, a server-side caller) iterates it.
 */

/** Where a pushed stream's items go. After `error` or `complete`, nothing more. */
export interface PushSink<T> {
  /**
   * Delivers `item`. Returns false when it was held back instead, for a reader
   * that lags: an ephemeral item waits there, and a later one replaces it. A
   * stream of changes then sends its whole state next, not a change.
   */
  next(item: T): boolean | undefined;
  error(cause: unknown): void;
  complete(): void;
  /**
   * Asks to read a page of items from storage (a replay's) and resolves when
   * it may: no other page of the same reader's under way, the reader's replay
   * budget out of debt, the connection drained (at once if the stream was
   * stopped meanwhile). Resolves with `done`, to be called once the page has
   * been delivered, whatever the outcome: it charges the bytes sent meanwhile
   * to the budget and lets the reader's next page go. Live items are never
   * paced. Absent where the reader paces itself (an iterator is pulled).
   */
  paced?(): Promise<() => void>;
}

/** Registered, so that two copies of this package loaded at once still agree on it. */
export const pushInto: unique symbol = Symbol.for('tether.pushInto');

/** A running push: stopping it ends delivery (no call on the sink after). */
export interface PushRun {
  stop(): void;
}

/** An async iterable that can also push its items: iterate it, or push it once. */
export interface Pushable<T> extends AsyncIterable<T> {
  /** Starts delivery into `sink`. */
  [pushInto](sink: PushSink<T>): PushRun;
}

export function isPushable(value: unknown): value is Pushable<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as Partial<Pushable<unknown>>)[pushInto] === 'function'
  );
}
