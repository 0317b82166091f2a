import type { Transport } from '@tether/protocol';
import type { TRPCError } from '@trpc/server';
import { type Logger, throttledWarning } from '../logger';

/** A database outage fails every call: one warning per this interval, with how many it stands for. */
const UNAVAILABLE_LOG_INTERVAL_MS = 5_000;

/**
 * The server's side of a failed call, for both transports: an unexpected
 * error is logged once with its stack (the client only sees "internal server
 * error"); database failures are logged with their cause, at most once per interval.
 */
export function createProcedureErrorLog(logger: Logger, transport: Transport) {
  const storeUnavailable = throttledWarning(logger, 'store.unavailable', UNAVAILABLE_LOG_INTERVAL_MS, 'calls');
  return ({ error, path, type }: { error: TRPCError; path: string | undefined; type: string }) => {
    if (error.code === 'INTERNAL_SERVER_ERROR') {
      logger.error('trpc.error', {
        transport,
        path,
        type,
        message: error.message,
        stack: error.cause?.stack ?? error.stack,
      });
      return;
    }
    if (error.code !== 'SERVICE_UNAVAILABLE') return;
    storeUnavailable(() => ({
      transport,
      path,
      message: error.message,
      cause: error.cause?.cause instanceof Error ? error.cause.cause.message : error.cause?.message,
    }));
  };
}
