import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import {
  authSessionSchema,
  credentialsSchema,
  refreshInputSchema,
  renewInputSchema,
  renewResultSchema,
} from '../schemas/auth';
import { userSchema } from '../schemas/common';
import type { Services } from '../services';
import { authedProcedure, publicProcedure, router } from '../trpc';

export function createAuthRouter(auth: Services['auth']) {
  return router({
    signUp: publicProcedure
      .input(credentialsSchema)
      .output(authSessionSchema)
      .mutation(({ input }) => auth.signUp(input)),
    signIn: publicProcedure
      .input(credentialsSchema)
      .output(authSessionSchema)
      .mutation(({ input }) => auth.signIn(input)),
    refresh: publicProcedure
      .input(refreshInputSchema)
      .output(authSessionSchema)
      .mutation(({ input }) => auth.refresh(input)),
    signOut: publicProcedure
      .input(refreshInputSchema)
      .output(z.void())
      .mutation(({ input }) => auth.signOut(input)),
    /** Swaps the WebSocket connection's token for a fresh one without reconnecting. */
    renew: publicProcedure
      .input(renewInputSchema)
      .output(renewResultSchema)
      .mutation(async ({ ctx, input }) => {
        if (!ctx.connection) {
          throw new TRPCError({
            code: 'BAD_REQUEST',
            message: 'renew applies to WebSocket connections; over HTTP send the token with each request',
          });
        }
        const { expiresAt } = await ctx.connection.renew(input.accessToken);
        return { expiresAt };
      }),
    me: authedProcedure.output(userSchema).query(({ ctx }) => auth.me(ctx.principal)),
  });
}
