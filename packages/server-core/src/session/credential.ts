import { TRPCError } from '@trpc/server';
import { toPublicError } from '../public-errors';

/** A verified token: who it names, until when, and which revocations end it. */
export interface Credential<TPrincipal> {
  principal: TPrincipal;
  /** Connections and subscriptions are counted per principal under this key (a user id, say). */
  principalKey: string;
  /** The session ends when this passes, unless renewed first. */
  expiresAt: Date;
  /**
   * For long-lived tokens: the token is verified again at this time and the
   * session ends if it no longer is, a safety net should a revocation be missed.
   */
  recheckAt?: Date;
  /** Revoking any of these keys (`SessionCore.revoke`) ends every session holding this credential. */
  revocationKeys: readonly string[];
}

/** Verifies a token; throws (with a message a person can act on) when it is not valid. */
export type Authenticate<TPrincipal> = (token: string) => Promise<Credential<TPrincipal>>;

/**
 * A failure to authenticate, as callers see it: UNAUTHORIZED saying why, or,
 * when the database behind the check failed, the retryable error of any store
 * failure (a token is not invalid because the database is down).
 */
export function unauthorized(cause: unknown): TRPCError {
  const failure = toPublicError(cause);
  if (failure instanceof TRPCError) return failure;
  const message = cause instanceof Error ? cause.message : 'access token invalid';
  return new TRPCError({ code: 'UNAUTHORIZED', message, cause });
}
