import { isConnectionLoss, RequestTimeoutError } from '@tether/client';
import type { AppRouter } from '@tether/protocol';
import { TRPCClientError } from '@trpc/client';

/** Exit codes, as `tether --help` documents them. */
export const ExitCode = { Ok: 0, ServerError: 1, Usage: 2, NotAllowed: 3, CannotConnect: 4 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Wrong arguments: exit 2 with the command's usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Not signed in, or no longer: exit 3. */
export class NotSignedInError extends Error {
  override name = 'NotSignedInError';
}

export interface Failure {
  code: ExitCode;
  message: string;
  hint?: string;
}

function isNetworkFailure(error: unknown): boolean {
  const cause = error instanceof Error ? (error.cause as { code?: string } | undefined) : undefined;
  return (
    (error instanceof TypeError && error.message === 'fetch failed') ||
    ['ECONNREFUSED', 'ENOTFOUND', 'ECONNRESET', 'EHOSTUNREACH'].includes(cause?.code ?? '')
  );
}

/** The one place any error becomes a message, a hint and an exit code. */
export function describeFailure(error: unknown, url: string): Failure {
  if (error instanceof UsageError) return { code: ExitCode.Usage, message: error.message };
  if (error instanceof NotSignedInError) {
    return { code: ExitCode.NotAllowed, message: error.message, hint: 'run `tether login`' };
  }
  if (error instanceof TRPCClientError) {
    const failure = error as TRPCClientError<AppRouter>;
    if (isNetworkFailure(failure.cause) || isConnectionLoss(failure) || failure.cause instanceof RequestTimeoutError) {
      return cannotConnect(url);
    }
    const code = failure.data?.code;
    const issues = failure.data?.zodIssues;
    if (code === 'BAD_REQUEST' && issues?.length) {
      return {
        code: ExitCode.Usage,
        message: issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('\n'),
      };
    }
    if (code === 'UNAUTHORIZED')
      return { code: ExitCode.NotAllowed, message: failure.message, hint: 'run `tether login`' };
    if (code === 'FORBIDDEN') return { code: ExitCode.NotAllowed, message: failure.message };
    return { code: ExitCode.ServerError, message: failure.message };
  }
  if (isNetworkFailure(error)) return cannotConnect(url);
  return { code: ExitCode.ServerError, message: error instanceof Error ? error.message : String(error) };
}

function cannotConnect(url: string): Failure {
  return {
    code: ExitCode.CannotConnect,
    message: `cannot reach the Tether server at ${url}`,
    hint: 'is it running? pick another with --url or TETHER_URL',
  };
}
