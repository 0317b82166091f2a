import type { AppRouter } from '@tether/protocol';
import { TRPCClientError } from '@trpc/client';
import { expect } from 'vitest';

/** Awaits `promise`, expects it to fail with tRPC error `code`, and returns the error. */
export async function expectTrpcError(promise: Promise<unknown>, code: string) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  expect((error as TRPCClientError<AppRouter>).data?.code).toBe(code);
  return error as TRPCClientError<AppRouter>;
}
