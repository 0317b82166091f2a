/**
 * Subscriptions delivered by push. tRPC's error middleware wraps every async
 * iterable a subscription returns in a generator of its own, so each item of
 * each subscriber costs a chain of promises and each idle subscriber holds
 * two suspended generators. A stream that can also push (`Pushable`) is
 * passed by that wrapper when its procedure uses `deliverByPush`: the session
 * core then hands it a sink and the stream calls it directly, with no promise
 * per item and nothing suspended while it is quiet.
 */

/** Where a pushed stream's items go. After `error` or `complete`, nothing more. */
export interface PushSink<T> {
  next(item: T): void;
  error(cause: unknown): void;
  complete(): void;
}

export const pushInto: unique symbol = Symbol('tether.pushInto');

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

/**
 * What a procedure's result becomes on its way out: not iterable, so tRPC's
 * error middleware lets it by, and only the session core knows how to run it.
 */
export class PushDelivery {
  constructor(readonly stream: Pushable<unknown>) {}
}

interface MiddlewareResult {
  ok: boolean;
  data?: unknown;
}

/**
 * A subscription middleware (`.use(deliverByPush)`): a pushable the resolver
 * returns, unchanged by any inner middleware, goes to the session core as is.
 * Use it last before the resolver, or anywhere: it sees the final result.
 */
export async function deliverByPush<R extends MiddlewareResult>(options: { next(): Promise<R> }): Promise<R> {
  const result = await options.next();
  return result.ok && isPushable(result.data) ? { ...result, data: new PushDelivery(result.data) } : result;
}
