import { initTRPC, TRPCError } from '@trpc/server';
import superjson from 'superjson';
import type { Context, IdempotencyScope, Principal, Scope, UserPrincipal } from './context';
import { formatError } from './core/errors';

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  // Stack traces never travel: the server logs them instead.
  isDev: false,
  errorFormatter: formatError,
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
