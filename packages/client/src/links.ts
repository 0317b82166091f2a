import { retryLink, TRPCClientError, type TRPCLink } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { observable } from '@trpc/server/observable';

/**
 * True when the request failed because its socket went away, not because the
 * server answered. tRPC fails such requests with the socket's close event as
 * the cause, or with its TRPCWebSocketClosedError (not exported, so it is
 * recognised by the name that class sets).
 */
export function isConnectionLoss(error: TRPCClientError<AnyTRPCRouter>): boolean {
  if (error.data !== undefined) return false;
  const cause: unknown = error.cause;
  if (cause instanceof Error) return cause.name === 'ConnectionLostError' || cause.name === 'TRPCWebSocketClosedError';
  // A socket that fails while open may report `error` before `close`; either means the answer never came.
  return (
    typeof cause === 'object' && cause !== null && 'type' in cause && (cause.type === 'close' || cause.type === 'error')
  );
}

function idempotencyKeyOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null || !('idempotencyKey' in input)) return undefined;
  return typeof input.idempotencyKey === 'string' ? input.idempotencyKey : undefined;
}

/** Safe to send again when its connection dropped: a query, or a mutation that carries an `idempotencyKey`. */
export function isRetryable(op: { type: string; input: unknown }): boolean {
  return op.type === 'query' || (op.type === 'mutation' && idempotencyKeyOf(op.input) !== undefined);
}

/**
 * Retries what is safe to send again when its connection dropped mid-flight:
 * a query, and a mutation that carries an `idempotencyKey` (the retry goes
 * out on the next connection with the same key, so the server applies it
 * once and the caller gets one result). Mutations without a key are never
 * retried: nobody can tell whether they were applied.
 */
export function idempotentRetryLink(
  maxAttempts: number,
  isActive: () => boolean = () => true,
): TRPCLink<AnyTRPCRouter> {
  return retryLink<AnyTRPCRouter>({
    retry: ({ op, error, attempts }) =>
      isActive() && attempts < maxAttempts && isRetryable(op) && isConnectionLoss(error),
    // The request then waits in the link's queue until the next connection opens. Not 0: the
    // retry goes out after the connection has finished handling the close that lost it.
    retryDelayMs: () => 1,
  });
}

/** Why a request gave up waiting. */
export class RequestTimeoutError extends Error {
  constructor(path: string, timeoutMs: number, connection: string) {
    super(
      `${path} got no answer within ${timeoutMs} ms (connection: ${connection}); ` +
        'a mutation with an idempotencyKey is safe to send again with the same key',
    );
    this.name = 'RequestTimeoutError';
  }
}

/**
 * Bounds queries and mutations, including the time they wait in the queue
 * while disconnected. Subscriptions are unbounded: they live as long as their subscriber.
 */
export function timeoutLink(timeoutMs: number, describeConnection: () => string): TRPCLink<AnyTRPCRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        if (op.type === 'subscription') return next(op).subscribe(observer);
        // Settled once: whatever the downstream does while being torn down after a timeout is ignored.
        let settled = false;
        const settle = (finish: () => void) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          finish();
        };
        const timer = setTimeout(() => {
          settle(() =>
            observer.error(TRPCClientError.from(new RequestTimeoutError(op.path, timeoutMs, describeConnection()))),
          );
          subscription.unsubscribe();
        }, timeoutMs);
        const subscription = next(op).subscribe({
          next: (value) => observer.next(value),
          error: (error) => settle(() => observer.error(error)),
          complete: () => settle(() => observer.complete()),
        });
        return () => {
          clearTimeout(timer);
          subscription.unsubscribe();
        };
      });
}
