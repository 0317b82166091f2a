import { initTRPC, TRPCError } from '@trpc/server';
import superjson from 'superjson';
import { z } from 'zod';
import type { Context, Principal } from './context';

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

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  // Stack traces never travel: the server logs them instead.
  isDev: false,
  errorFormatter({ shape, error }) {
    return {
      ...shape,
      data: {
        ...shape.data,
        zodIssues: error.code === 'BAD_REQUEST' ? validationIssues(error.cause) : null,
      },
    };
  },
});

export const router = t.router;
export const publicProcedure = t.procedure;

/** Procedures that need a signed-in principal; narrows `ctx.principal` to non-null. */
export const authedProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.principal) {
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'sign in first: this call needs an access token' });
  }
  return next({ ctx: { principal: ctx.principal satisfies Principal } });
});

/** Subscriptions count against the connection's limit for as long as they run. */
export const subscriptionProcedure = authedProcedure.use(async ({ ctx, signal, next }) => {
  const release = ctx.connection && signal ? ctx.connection.admitSubscription(signal) : null;
  const result = await next();
  // A subscription refused at setup (FORBIDDEN, NOT_FOUND, bad input) never runs, so its slot is freed now.
  if (!result.ok) release?.();
  return result;
});
