import type { TRPCClientError } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';

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
