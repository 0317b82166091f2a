import type { ServerResponse } from 'node:http';
import { type AnyTRPCRouter, getErrorShape, type TRPCError, transformTRPCResponse } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';

/**
 * Answers an HTTP tRPC request the session core refuses before tRPC sees it,
 * as tRPC's own handler would: one error per call of a batch. The shape is
 * serialized once whatever the batch's size, so a refusal costs less than the
 * request (a batch over the per-batch limit gets one error, not one per call).
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
  res
    .writeHead(getHTTPStatusCodeFromError(error), { 'content-type': 'application/json', ...headers })
    .end(responses.batch ? `[${Array.from({ length: responses.count }, () => one).join(',')}]` : one);
}
