import { initTRPC, TRPCError } from '@trpc/server';
import superjson from 'superjson';
import { z } from 'zod';
import type { Context, IdempotencyScope, Principal, Scope, UserPrincipal } from './context';

/** Validation issues as they travel in `error.data.zodIssues`. */
export interface ValidationIssue {
  code: string;
  path: PropertyKey[];
  message: string;
}

function validationIssues(cause: unknown): ValidationIssue[] | null {
  if (!(cause instanceof z.ZodError)) return null;
  return cause.issues.map(({ code, path, message }) => ({ code, path, message }));
}

/** What a client sees of an unexpected failure; the server logs the real message with its context. */
export const INTERNAL_ERROR_MESSAGE = 'internal server error';

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  // Stack traces never travel: the server logs them instead.
  isDev: false,
  errorFormatter({ shape, error }) {
    return {
      ...shape,
      // An unexpected error's message may be driver or library text: it never reaches a client.
      message: error.code === 'INTERNAL_SERVER_ERROR' ? INTERNAL_ERROR_MESSAGE : shape.message,
      data: {
        ...shape.data,
        zodIssues: error.code === 'BAD_REQUEST' ? validationIssues(error.cause) : null,
      },
    };
  },
});

export const router = t.router;
export const publicProcedure = t.procedure;

function idempotencyKeyOf(input: unknown): string | undefined {
  return typeof input === 'object' &&
    input !== null &&
    'idempotencyKey' in input &&
    typeof input.idempotencyKey === 'string'
    ? input.idempotencyKey
    : undefined;
}

/**
 * For mutations that take an `idempotencyKey`: puts the call's once-only scope
 * (principal, procedure path, parsed input) in `ctx.once`, null without a key,
 * so no service labels its own key. Use it after `.input()`.
 */
export const onceByKey = t.middleware(({ ctx, path, input, next }) => {
  const key = idempotencyKeyOf(input);
  const once: IdempotencyScope | null =
    key !== undefined && ctx.principal ? { principalId: ctx.principal.userId, path, key, input } : null;
  return next({ ctx: { once } });
});

/** Procedures for people: a signed-in user. Service tokens are refused: they are never a user session. */
export const authedProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.principal) {
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'sign in first: this call needs an access token' });
  }
  if (ctx.principal.kind !== 'user') {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'a service token cannot make this call' });
  }
  return next({ ctx: { principal: ctx.principal satisfies UserPrincipal } });
});

function roomIdOf(input: unknown): string | undefined {
  return typeof input === 'object' && input !== null && 'roomId' in input && typeof input.roomId === 'string'
    ? input.roomId
    : undefined;
}

/**
 * Procedures people and scoped services may both call. A service needs
 * `scope`, and when its token lists rooms, the input's `roomId` must be one of them.
 */
export function scopedProcedure(scope: Scope) {
  return t.procedure.use(async ({ ctx, next, getRawInput }) => {
    const { principal } = ctx;
    if (!principal) {
      throw new TRPCError({ code: 'UNAUTHORIZED', message: 'sign in first: this call needs an access token' });
    }
    if (principal.kind === 'service') {
      if (!principal.scopes.includes(scope)) {
        throw new TRPCError({ code: 'FORBIDDEN', message: `this service token lacks the ${scope} scope` });
      }
      const roomId = roomIdOf(await getRawInput());
      if (principal.roomIds.length > 0 && (!roomId || !principal.roomIds.includes(roomId))) {
        throw new TRPCError({ code: 'FORBIDDEN', message: 'this service token is not valid for that room' });
      }
    }
    return next({ ctx: { principal: principal satisfies Principal } });
  });
}

/**
 * Subscriptions count against the connection's limit for as long as they run.
 * One refused at setup (FORBIDDEN, NOT_FOUND, bad input) never runs, so its slot is freed at once.
 */
const admitWhileRunning = t.middleware(async ({ ctx, signal, next }) => {
  const release = ctx.connection && signal ? ctx.connection.admitSubscription(signal) : null;
  const result = await next();
  if (!result.ok) release?.();
  return result;
});

/** Subscriptions people and scoped services may both open. */
export function scopedSubscription(scope: Scope) {
  return scopedProcedure(scope).use(admitWhileRunning);
}

/** Subscriptions for people only. */
export const subscriptionProcedure = authedProcedure.use(admitWhileRunning);
