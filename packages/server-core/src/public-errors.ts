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

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

async function* publicIterable<T>(source: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
  try {
    yield* source;
  } catch (error) {
    throw toPublicError(error);
  }
}

type ServiceGroups = Record<string, Record<string, (...args: never[]) => Promise<unknown>>>;

/**
 * Wraps every function of every service group so that its failures, and those
 * of the streams it returns, reach clients through `toPublicError`.
 */
export function withPublicErrors<S extends ServiceGroups>(services: S): S {
  const wrapped: Record<string, Record<string, unknown>> = {};
  for (const [group, functions] of Object.entries(services)) {
    wrapped[group] = Object.fromEntries(
      Object.entries(functions).map(([name, fn]) => [
        name,
        async (...args: never[]) => {
          try {
            const result = await fn(...args);
            return isAsyncIterable(result) ? publicIterable(result) : result;
          } catch (error) {
            throw toPublicError(error);
          }
        },
      ]),
    );
  }
  return wrapped as S;
}
