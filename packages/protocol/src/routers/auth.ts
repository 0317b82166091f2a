import { z } from 'zod';
import { authSessionSchema, credentialsSchema, refreshInputSchema } from '../schemas/auth';
import { userSchema } from '../schemas/common';
import type { Services } from '../services';
import { authedProcedure, publicProcedure, router } from '../trpc';

export function createAuthRouter(auth: Services['auth']) {
  return router({
    signUp: publicProcedure
      .input(credentialsSchema)
      .output(authSessionSchema)
      .mutation(({ input, ctx }) => auth.signUp(input, { address: ctx.session.address })),
    signIn: publicProcedure
      .input(credentialsSchema)
      .output(authSessionSchema)
      .mutation(({ input, ctx }) => auth.signIn(input, { address: ctx.session.address })),
    refresh: publicProcedure
      .input(refreshInputSchema)
      .output(authSessionSchema)
      .mutation(({ input }) => auth.refresh(input)),
    signOut: publicProcedure
      .input(refreshInputSchema)
      .output(z.void())
      .mutation(({ input }) => auth.signOut(input)),
    me: authedProcedure.output(userSchema).query(({ ctx }) => auth.me(ctx.principal)),
  });
}
