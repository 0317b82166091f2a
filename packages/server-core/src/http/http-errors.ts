import type { ServerResponse } from 'node:http';
import { type AnyTRPCRouter, getErrorShape, type TRPCError, transformTRPCResponse } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';

/**
 * Answers an HTTP tRPC request with `error` the way tRPC's own handler would
 * (one response per call of a batch), for requests the session core refuses
 * before tRPC sees them.
 */
export function sendTrpcError(
  res: ServerResponse,
  router: AnyTRPCRouter,
  error: TRPCError,
  calls: { paths: string[]; batch: boolean },
  headers: Record<string, string> = {},
): void {
  const config = router._def._config;
  const responses = calls.paths.map((path) =>
    transformTRPCResponse(config, {
      error: getErrorShape({ config, error, type: 'unknown', path, input: undefined, ctx: undefined }),
    }),
  );
  res
    .writeHead(getHTTPStatusCodeFromError(error), { 'content-type': 'application/json', ...headers })
    .end(JSON.stringify(calls.batch ? responses : responses[0]));
}
