import { isConnectionLoss } from '@tether/client';
import type { AppRouter } from '@tether/protocol';
import { TRPCClientError } from '@trpc/client';

/** A message a person can act on, from any error a call can end with. */
export function describeError(error: unknown): string {
  if (error instanceof TRPCClientError) {
    if (isConnectionLoss(error as TRPCClientError<AppRouter>))
      return 'Not connected to the server; try again when the connection is back.';
    const { data } = error as TRPCClientError<AppRouter>;
    const issues = data?.zodIssues;
    if (issues && issues.length > 0) return issues.map((issue) => issue.message).join('; ');
    return error.message;
  }
  return error instanceof Error ? error.message : 'Something went wrong';
}

/** True when the server answered with a refusal (so retrying the same request cannot help). */
export function serverAnswered(error: unknown): boolean {
  return error instanceof TRPCClientError && error.data !== undefined && !serverUnavailable(error);
}

/** The server could not reach its database: the call may or may not have applied, and may go again with its key. */
export function serverUnavailable(error: unknown): boolean {
  return error instanceof TRPCClientError && (error as TRPCClientError<AppRouter>).data?.code === 'SERVICE_UNAVAILABLE';
}
