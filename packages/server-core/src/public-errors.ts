import { TRPCError } from '@trpc/server';
import { IdempotencyConflictError } from './store/idempotency';
import { StoreError } from './store/store-errors';

/**
 * What a client may see of a failure below the services: a database failure
 * becomes SERVICE_UNAVAILABLE (retryable, with a human message and never
 * driver text), a reused idempotency key CONFLICT. Anything else passes
 * unchanged (an unexpected error reaches the client as "internal server error").
 */
export function toPublicError(error: unknown): unknown {
  if (error instanceof StoreError) {
    return new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: error.message, cause: error });
  }
  if (error instanceof IdempotencyConflictError) {
    return new TRPCError({ code: 'CONFLICT', message: error.message, cause: error });
  }
  return error;
}

/**
 * Wraps every function of every service group so that its failures reach
 * clients through `toPublicError`. The streams they return are not wrapped:
 * the session core maps a stream's failure the same way, without a generator
 * between every item and its subscriber.
 */
export function withPublicErrors<S extends object>(services: S): S {
  const wrapped: Record<string, Record<string, unknown>> = {};
  for (const [group, functions] of Object.entries(services)) {
    wrapped[group] = Object.fromEntries(
      Object.entries(functions as Record<string, (...args: never[]) => Promise<unknown>>).map(([name, fn]) => [
        name,
        async (...args: never[]) => {
          try {
            return await fn(...args);
          } catch (error) {
            throw toPublicError(error);
          }
        },
      ]),
    );
  }
  return wrapped as S;
}
