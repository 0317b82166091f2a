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
  next(item: T): void;
  error(cause: unknown): void;
  complete(): void;
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
