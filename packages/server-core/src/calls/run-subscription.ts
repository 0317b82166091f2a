import { callTRPCProcedure, getTRPCErrorFromUnknown, type TRPCError } from '@trpc/server';
import { isObservable, observableToAsyncIterable } from '@trpc/server/observable';
import { toPublicError } from '../public-errors';
import type { Session, Subscription } from '../session/session';
import type { TransportDeps } from '../session/transport-deps';

/** Where a subscription's items go: the transport frames them. */
export interface SubscriptionSink {
  started(): void;
  data(value: unknown): void;
  /** The subscription failed (or was ended from outside with a reason). */
  error(error: TRPCError): void;
  /** It completed, or its client stopped it. */
  stopped(): void;
}

const ABORTED = Symbol('aborted');

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
  deps: Pick<TransportDeps, 'router' | 'onCallError'>,
  call: { session: Session<unknown>; subscription: Subscription; path: string; input: unknown },
  sink: SubscriptionSink,
): Promise<void> {
  const { router } = deps;
  const { session, subscription, path, input } = call;
  const { signal } = subscription;
  const fail = (cause: unknown) => {
    const error = publicError(cause);
    deps.onCallError(error, path, 'subscription');
    sink.error(error);
  };

  let source: unknown;
  try {
    source = await callTRPCProcedure({
      router,
      path,
      getRawInput: async () => input,
      ctx: session.context,
      type: 'subscription',
      signal,
      batchIndex: 0,
    });
  } catch (cause) {
    // A subscription stopped while it was being set up ends quietly.
    if (signal.aborted && !subscription.failure) sink.stopped();
    else fail(subscription.failure ?? cause);
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
    if (subscription.failure) sink.error(subscription.failure);
    else sink.stopped();
    return;
  }

  // One abort listener for the whole subscription: it wakes whichever `next` is pending.
  let wake: ((aborted: typeof ABORTED) => void) | null = null;
  const onAbort = () => wake?.(ABORTED);
  signal.addEventListener('abort', onAbort, { once: true });
  sink.started();
  let done = false;
  try {
    while (!signal.aborted) {
      const next = await new Promise<IteratorResult<unknown> | typeof ABORTED>((resolve, reject) => {
        wake = resolve;
        iterator.next().then(resolve, reject);
      });
      if (next === ABORTED) break;
      if (next.done) {
        done = true;
        break;
      }
      sink.data(next.value);
    }
    if (subscription.failure) sink.error(subscription.failure);
    else sink.stopped();
  } catch (cause) {
    done = true;
    if (signal.aborted && !subscription.failure) sink.stopped();
    else fail(subscription.failure ?? cause);
  } finally {
    wake = null;
    signal.removeEventListener('abort', onAbort);
    // Ends the procedure's generator (its `finally` runs) without waiting for it.
    if (!done) void iterator.return?.()?.catch(() => {});
  }
}
