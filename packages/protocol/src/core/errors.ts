import { type TRPCDefaultErrorShape, TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { CloseCode } from './codes';

/** What a client sees of an unexpected failure; the server logs the real message with its context. */
export const INTERNAL_ERROR_MESSAGE = 'internal server error';

/** Validation issues as they travel in `error.data.zodIssues`. */
export interface ValidationIssue {
  code: string;
  path: PropertyKey[];
  message: string;
}

/**
 * The cause of an error that ends a session (token expired, revoked, slow
 * reader): where the transport has no close frame (SSE, HTTP), the error's
 * `data.closeCode` says which WebSocket close code it stands for, so a client
 * reacts the same way on every transport.
 */
export class SessionEndError extends Error {
  constructor(
    readonly closeCode: CloseCode,
    message: string,
  ) {
    super(message);
    this.name = 'SessionEndError';
  }
}

/**
 * The cause of a refusal that will pass (a rate limit): `data.retryAfterMs`
 * tells the client when to try again, and over HTTP `Retry-After` says it too.
 */
export class RetryLaterError extends Error {
  constructor(
    readonly retryAfterMs: number,
    message: string,
  ) {
    super(message);
    this.name = 'RetryLaterError';
  }
}

/**
 * The cause of a resume point the server never gave: `lastEventId` past the
 * stream's newest event (its data was reset, or the id came from elsewhere).
 * `data.resyncHeadSeq` carries the newest seq; the client drops what it holds
 * of the stream and starts afresh (without `lastEventId`).
 */
export class ResyncError extends Error {
  constructor(
    readonly headSeq: number,
    message: string,
  ) {
    super(message);
    this.name = 'ResyncError';
  }
}

/** Whole seconds to wait, at least one: what a refusal's message and HTTP's `Retry-After` say. */
export const retryAfterSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/** A refusal for `what` that passes in `retryAfterMs`, rounded up to whole seconds: "`what`: try again in N s". */
export function retryLater(what: string, retryAfterMs: number): RetryLaterError {
  const seconds = retryAfterSeconds(retryAfterMs);
  return new RetryLaterError(seconds * 1000, `${what}: try again in ${seconds} s`);
}

/** TOO_MANY_REQUESTS for `later`: `data.retryAfterMs` says when to come back, and over HTTP `Retry-After`. */
export function tooManyRequests(later: RetryLaterError): TRPCError & { cause: RetryLaterError } {
  return new TRPCError({ code: 'TOO_MANY_REQUESTS', message: later.message, cause: later }) as TRPCError & {
    cause: RetryLaterError;
  };
}

function validationIssues(cause: unknown): ValidationIssue[] | null {
  if (!(cause instanceof z.ZodError)) return null;
  return cause.issues.map(({ code, path, message }) => ({ code, path, message }));
}

/**
 * The one error formatter of every Tether router: stack traces never travel
 * (the server logs them), an unexpected error's message (driver or library
 * text) is replaced, validation errors carry their zod issues, and a session's
 * end carries its close code, a rate limit when to try again, a resume point
 * the server never gave the stream's head.
 */
export function formatError({ shape, error }: { shape: TRPCDefaultErrorShape; error: TRPCError }) {
  return {
    ...shape,
    message: error.code === 'INTERNAL_SERVER_ERROR' ? INTERNAL_ERROR_MESSAGE : shape.message,
    data: {
      ...shape.data,
      zodIssues: error.code === 'BAD_REQUEST' ? validationIssues(error.cause) : null,
      closeCode: error.cause instanceof SessionEndError ? error.cause.closeCode : null,
      retryAfterMs: error.cause instanceof RetryLaterError ? error.cause.retryAfterMs : null,
      resyncHeadSeq: error.cause instanceof ResyncError ? error.cause.headSeq : null,
    },
  };
}
