import type { IncomingMessage } from 'node:http';
import type { Context, Principal } from '@tether/protocol';
import { TRPCError } from '@trpc/server';
import { toPublicError } from '../public-errors';

/** A verified access token: who it names and when it stops being valid. */
export interface Credential {
  principal: Principal;
  expiresAt: Date;
}

/** Verifies an access token; throws (with a message a person can act on) when it is not valid. */
export type Authenticate = (token: string) => Promise<Credential>;

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

/** HTTP: `Authorization: Bearer <token>`; no header means an anonymous caller. */
export async function createHttpContext(authenticate: Authenticate, req: IncomingMessage): Promise<Context> {
  const header = req.headers.authorization;
  if (!header) return { principal: null, connection: null };
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) throw unauthorized(new Error('Authorization header must be "Bearer <token>"'));
  try {
    return { principal: (await authenticate(match[1])).principal, connection: null };
  } catch (error) {
    throw unauthorized(error);
  }
}
