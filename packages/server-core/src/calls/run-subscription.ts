import { getTRPCErrorFromUnknown, type TRPCError } from '@trpc/server';
import { isObservable, observableToAsyncIterable } from '@trpc/server/observable';
import { toPublicError } from '../public-errors';
import type { Session, Subscription } from '../session/session';
import type { TransportDeps } from '../session/transport-deps';
import { callProcedure } from './call-procedure';

/** Where a subscription's items go: the transport frames them. */
export interface SubscriptionSink {
  started(): void;
  data(value: unknown): void;
  /** The subscription failed (or was ended from outside with a reason). */
  error(error: TRPCError): void;
  /** It completed, or its client stopped it. */
  stopped(): void;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** The error a client may see, for a failure of the procedure or of its stream. */
export const publicError = (cause: unknown): TRPCError => getTRPCErrorFromUnknown(toPublicError(cause));

/**
 * Runs a subscription procedure and pumps its items into `sink` until it
 * completes, fails, or `subscription` ends. One loop for every transport; the
 * caller releases the subscription once this settles.
 */
export async function runSubscription(
  deps: Pick<TransportDeps, 'router' | 'onCallError' | 'sessions'>,
  call: { session: Session<unknown>; subscription: Subscription; path: string; input: unknown },
  sink: SubscriptionSink,
): Promise<void> {
  const { router } = deps;
  const { session, subscription, path, input } = call;
  const { signal } = subscription;
  // The slot and the id are free before the client hears of the end, so it may reuse them at once.
  const release = () => deps.sessions.releaseSubscription(subscription);
  const fail = (cause: unknown) => {
    const error = publicError(cause);
    deps.onCallError(error, path, 'subscription');
    release();
    sink.error(error);
  };
  const stopped = () => {
    release();
    if (subscription.failure) sink.error(subscription.failure);
    else sink.stopped();
  };

  let source: unknown;
  try {
    source = await callProcedure(router, { path, input, ctx: session.context, type: 'subscription', signal });
  } catch (cause) {
    // A subscription stopped while it was being set up ends quietly.
    if (signal.aborted) stopped();
    else fail(cause);
    return;
  }
  const iterable = isObservable(source) ? observableToAsyncIterable(source, signal) : source;
  if (!isAsyncIterable(iterable)) {
    fail(new Error(`subscription ${path} did not return an async iterable`));
    return;
  }
  const iterator = iterable[Symbol.asyncIterator]();
  if (signal.aborted) {
    void iterator.return?.()?.catch(() => {});
    stopped();
    return;
  }
  sink.started();
  await pump(iterator, subscription, sink, stopped, fail);
}

/**
 * Pulls items until the iterator is done, fails, or the subscription ends.
 * Callbacks rather than `await` in a loop: one promise per item (the
 * iterator's own), which is most of the cost of fanning an event out to
 * thousands of subscribers. An end from outside settles at once, without
 * waiting for a `next` that may never come.
 */
function pump(
  iterator: AsyncIterator<unknown>,
  subscription: Subscription,
  sink: SubscriptionSink,
  stopped: () => void,
  fail: (cause: unknown) => void,
): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (end: () => void, iteratorDone: boolean) => {
      if (settled) return;
      settled = true;
      subscription.signal.removeEventListener('abort', onAbort);
      end();
      // Ends the procedure's generator (its `finally` runs) without waiting for it.
      if (!iteratorDone) void iterator.return?.()?.catch(() => {});
      resolve();
    };
    const onAbort = () => settle(stopped, false);
    const onItem = (item: IteratorResult<unknown>) => {
      if (settled) return;
      if (item.done) return settle(stopped, true);
      sink.data(item.value);
      if (!settled) iterator.next().then(onItem, onFailure);
    };
    const onFailure = (cause: unknown) => {
      if (settled) return;
      // A failure after an end from outside is that end; otherwise it is the subscription's error.
      settle(() => (subscription.signal.aborted ? stopped() : fail(cause)), true);
    };
    subscription.signal.addEventListener('abort', onAbort, { once: true });
    iterator.next().then(onItem, onFailure);
  });
}
