import type { ServerResponse } from 'node:http';
import { RetryLaterError, retryAfterSeconds } from '@tether/protocol';
import { type AnyTRPCRouter, getErrorShape, type TRPCError, transformTRPCResponse } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';

/**
 * Answers an HTTP tRPC request the session core refuses before tRPC sees it,
 * as tRPC's own handler would: one error per call of a batch. The shape is
 * serialized once whatever the batch's size, so a refusal costs less than the
 * request (a batch over the per-batch limit gets one error, not one per call).
 * A refusal that passes (its cause a `RetryLaterError`) says when in `Retry-After`.
 */
export function sendTrpcError(
  res: ServerResponse,
  router: AnyTRPCRouter,
  error: TRPCError,
  responses: { count: number; batch: boolean },
  headers: Record<string, string> = {},
): void {
  const config = router._def._config;
  const shape = getErrorShape({ config, error, type: 'unknown', path: undefined, input: undefined, ctx: undefined });
  const one = JSON.stringify(transformTRPCResponse(config, { error: shape }));
  const later =
    error.cause instanceof RetryLaterError
      ? { 'retry-after': String(retryAfterSeconds(error.cause.retryAfterMs)) }
      : {};
  res
    .writeHead(getHTTPStatusCodeFromError(error), { 'content-type': 'application/json', ...later, ...headers })
    .end(responses.batch ? `[${Array.from({ length: responses.count }, () => one).join(',')}]` : one);
}
