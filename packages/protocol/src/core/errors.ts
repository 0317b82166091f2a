import type { TRPCDefaultErrorShape, TRPCError } from '@trpc/server';
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

function validationIssues(cause: unknown): ValidationIssue[] | null {
  if (!(cause instanceof z.ZodError)) return null;
  return cause.issues.map(({ code, path, message }) => ({ code, path, message }));
}

/**
 * The one error formatter of every Tether router: stack traces never travel
 * (the server logs them), an unexpected error's message (driver or library
 * text) is replaced, validation errors carry their zod issues, and a session's
 * end carries its close code, a rate limit when to try again.
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
    },
  };
}
