import type { ServerResponse } from 'node:http';
import { CloseCode, SessionEndError } from '@tether/protocol';
import { type AnyTRPCRouter, getErrorShape, type TRPC_ERROR_CODE_KEY, TRPCError } from '@trpc/server';

/** The headers of tRPC's SSE responses. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
};

/** tRPC's SSE control events, as its `httpSubscriptionLink` reads them. */
export const SSE_CONNECTED = 'event: connected\ndata: {}\n\n';
export const SSE_PING = 'event: ping\ndata: \n\n';
export const SSE_RETURN = 'event: return\ndata: \n\n';

/** What an SSE stream ends with where a WebSocket would close with `code`. */
const ERROR_FOR_CLOSE: Partial<Record<CloseCode, TRPC_ERROR_CODE_KEY>> = {
  [CloseCode.Unauthorized]: 'UNAUTHORIZED',
  [CloseCode.RateLimited]: 'TOO_MANY_REQUESTS',
  [CloseCode.SlowConsumer]: 'TOO_MANY_REQUESTS',
  [CloseCode.TryAgainLater]: 'SERVICE_UNAVAILABLE',
  [CloseCode.ServiceRestart]: 'SERVICE_UNAVAILABLE',
  [CloseCode.GoingAway]: 'SERVICE_UNAVAILABLE',
};

/** `error`, carrying the WebSocket close code it stands for (the client reads `data.closeCode`). */
function withCloseCode(code: TRPC_ERROR_CODE_KEY, message: string, closeCode: CloseCode): TRPCError {
  return new TRPCError({ code, message, cause: new SessionEndError(closeCode, message) });
}

/** A typed end for a session: the error a client sees where a WebSocket would have closed with `closeCode`. */
export function sessionEnd(closeCode: CloseCode, reason: string): TRPCError {
  return withCloseCode(ERROR_FOR_CLOSE[closeCode] ?? 'INTERNAL_SERVER_ERROR', reason, closeCode);
}

/** tRPC's `serialized-error` event for `error`, in the same shape as over WebSocket. */
export function sseErrorEvent(
  router: AnyTRPCRouter,
  error: TRPCError,
  call: { path: string; input: unknown; ctx: unknown },
): string {
  const config = router._def._config;
  const shape = getErrorShape({ config, error, type: 'subscription', ...call });
  return `event: serialized-error\ndata: ${JSON.stringify(config.transformer.output.serialize(shape))}\n\n`;
}

/**
 * Refuses an SSE subscription: a stream that opens and ends at once with a
 * `serialized-error` (EventSource gives up on a non-200 answer without saying
 * why), and no `connected` first, since the subscription never started.
 * `closeCode` is what a WebSocket would have closed with, in the error's `data.closeCode`.
 */
export function refuseSse(
  res: ServerResponse,
  router: AnyTRPCRouter,
  error: TRPCError,
  path: string,
  closeCode?: CloseCode,
): void {
  const ending = closeCode === undefined ? error : withCloseCode(error.code, error.message, closeCode);
  res.writeHead(200, SSE_HEADERS);
  res.end(sseErrorEvent(router, ending, { path, input: undefined, ctx: undefined }));
}
