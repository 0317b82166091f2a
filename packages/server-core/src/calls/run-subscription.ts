import { isPushable, type Pushable, type PushRun, type PushSink, pushInto } from '@tether/protocol';
import { getTRPCErrorFromUnknown, type TRPCError } from '@trpc/server';
import { isObservable, observableToAsyncIterable } from '@trpc/server/observable';
import { toPublicError } from '../public-errors';
import type { Session, Subscription, SubscriptionDelivery } from '../session/session';
import type { TransportDeps } from '../session/transport-deps';
import { callProcedure } from './call-procedure';

/**
 * Where a subscription's items go: the transport frames them. Exactly one of
 * `error` and `stopped` ends every subscription that was admitted, after its
 * slot is released.
 */
export interface SubscriptionSink {
  started(): void;
  /** Frames `value`; false when it was held back for a reader that lags (an ephemeral item, which a later one replaces). */
  data(value: unknown): boolean;
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

type Deps = Pick<TransportDeps, 'router' | 'onCallError' | 'sessions'>;

/**
 * Runs a subscription procedure and delivers its items into `sink` until it
 * completes, fails, or `subscription` ends; one loop for every transport.
 * Resolves once the subscription has started or ended: nothing waits on a
 * running one, so a quiet subscriber holds no promise.
 */
export async function runSubscription(
  deps: Deps,
  call: { session: Session<unknown>; subscription: Subscription; path: string; input: unknown },
  sink: SubscriptionSink,
): Promise<void> {
  const { session, subscription, path, input } = call;
  const delivery = new Delivery(deps, subscription, sink, path);
  let source: unknown;
  try {
    source = await callProcedure(deps.router, {
      path,
      input,
      ctx: session.context,
      type: 'subscription',
      signal: subscription.signal,
    });
  } catch (cause) {
    // A subscription stopped while it was being set up ends quietly.
    delivery.end(subscription.signal.aborted ? undefined : cause);
    return;
  }
  if (isPushable(source)) return delivery.push(source);
  const iterable = isObservable(source) ? observableToAsyncIterable(source, subscription.signal) : source;
  if (!isAsyncIterable(iterable)) {
    delivery.end(new Error(`subscription ${path} did not return an async iterable`));
    return;
  }
  delivery.pull(iterable);
}

/**
 * One subscription's delivery, pushed or pulled, and its one end: the slot
 * is released, then the sink hears `error` or `stopped`, once.
 */
class Delivery implements PushSink<unknown>, SubscriptionDelivery {
  #ended = false;
  /** Stops the source: a pushed stream's run, or the iterator's `return`. */
  #source: PushRun | null = null;

  constructor(
    private readonly deps: Deps,
    private readonly subscription: Subscription,
    private readonly sink: SubscriptionSink,
    private readonly path: string,
  ) {}

  /** Pushed: the stream calls this object (a `PushSink`) directly, with no promise per item. */
  push(stream: Pushable<unknown>): void {
    if (!this.#begin()) return;
    let run: PushRun;
    try {
      run = stream[pushInto](this);
    } catch (cause) {
      // A stream that cannot start fails its subscription: the client heard `started`, so it hears the end.
      this.error(cause);
      return;
    }
    if (this.#ended) run.stop();
    else this.#source = run;
  }

  /**
   * Pulled: callbacks rather than `await` in a loop, so one promise per item
   * (the iterator's own).
   */
  pull(iterable: AsyncIterable<unknown>): void {
    let iterator: AsyncIterator<unknown>;
    try {
      iterator = iterable[Symbol.asyncIterator]();
    } catch (cause) {
      this.end(this.subscription.signal.aborted ? undefined : cause);
      return;
    }
    // Ends the procedure's generator (its `finally` runs) without waiting for it.
    this.#source = { stop: () => void iterator.return?.()?.catch(() => {}) };
    if (!this.#begin()) return;
    const onItem = (item: IteratorResult<unknown>) => {
      if (this.#ended) return;
      if (item.done) {
        this.#source = null;
        return this.complete();
      }
      this.next(item.value);
      if (!this.#ended) iterator.next().then(onItem, onFailure);
    };
    const onFailure = (cause: unknown) => {
      this.#source = null;
      this.error(cause);
    };
    iterator.next().then(onItem, onFailure);
  }

  next(item: unknown): boolean {
    if (this.#ended) return true;
    try {
      return this.sink.data(item);
    } catch (cause) {
      // An item that cannot be framed fails its subscription, never the server.
      this.error(cause);
      return true;
    }
  }

  paced(): Promise<() => void> {
    return this.subscription.session.paceReplay(this.subscription.signal);
  }

  endedFromOutside(): void {
    this.end(undefined);
  }

  error(cause: unknown): void {
    // A failure after an end from outside is that end.
    this.end(this.subscription.signal.aborted ? undefined : cause);
  }

  complete(): void {
    this.end(undefined);
  }

  /** Starts listening for an end from outside; false when one came during setup (the end is done). */
  #begin(): boolean {
    if (this.subscription.signal.aborted) {
      this.end(undefined);
      return false;
    }
    this.subscription.delivery = this;
    this.sink.started();
    return true;
  }

  /** Ends once: stops the source, frees the slot and the id (the client may reuse them at once), tells the sink. */
  end(cause: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.subscription.delivery = null;
    const source = this.#source;
    this.#source = null;
    try {
      source?.stop();
    } catch (failure) {
      // Whoever ended it (a session closing all of its subscriptions, say) must not fail for it.
      this.deps.onCallError(publicError(failure), this.path, 'subscription');
    }
    this.deps.sessions.releaseSubscription(this.subscription);
    try {
      if (cause !== undefined) {
        const error = publicError(cause);
        this.deps.onCallError(error, this.path, 'subscription');
        this.sink.error(error);
      } else if (this.subscription.failure) {
        this.sink.error(this.subscription.failure);
      } else {
        this.sink.stopped();
      }
    } catch (failure) {
      // An end may run inside a publisher's loop over every subscriber: it must not throw there.
      this.deps.onCallError(publicError(failure), this.path, 'subscription');
    }
  }
}
