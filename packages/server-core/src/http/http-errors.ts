import type { ServerResponse } from 'node:http';
import type { CloseCode } from '@tether/protocol';
import { SessionEndError } from '@tether/protocol';
import { type AnyTRPCRouter, getErrorShape, TRPCError, transformTRPCResponse } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';

/** The headers of tRPC's SSE responses. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
};

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

/**
 * Refuses an SSE subscription as tRPC's own server does: a stream that opens
 * and ends at once with a `serialized-error` (EventSource gives up on a
 * non-200 answer without saying why). `closeCode` is what a WebSocket would
 * have closed with, in the error's `data.closeCode`.
 */
export function sendSseError(
  res: ServerResponse,
  router: AnyTRPCRouter,
  error: TRPCError,
  path: string,
  closeCode?: CloseCode,
): void {
  const config = router._def._config;
  const ending =
    closeCode === undefined
      ? error
      : new TRPCError({
          code: error.code,
          message: error.message,
          cause: new SessionEndError(closeCode, error.message),
        });
  const shape = getErrorShape({ config, error: ending, type: 'subscription', path, input: undefined, ctx: undefined });
  res.writeHead(200, SSE_HEADERS);
  res.end(
    `event: connected\ndata: {}\n\nevent: serialized-error\ndata: ${JSON.stringify(config.transformer.output.serialize(shape))}\n\n`,
  );
}
