import { z } from 'zod';
import { createdTokenSchema, createTokenInputSchema, serviceTokenSchema, tokenRefInputSchema } from '../schemas/tokens';
import type { Services } from '../services';
import { authedProcedure, router } from '../trpc';

/** Service tokens, managed by admins. */
export function createTokensRouter(tokens: Services['tokens']) {
  return router({
    create: authedProcedure
      .input(createTokenInputSchema)
      .output(createdTokenSchema)
      .mutation(({ ctx, input }) => tokens.create(ctx.principal, input)),
    list: authedProcedure.output(z.array(serviceTokenSchema)).query(({ ctx }) => tokens.list(ctx.principal)),
    revoke: authedProcedure
      .input(tokenRefInputSchema)
      .output(z.void())
      .mutation(({ ctx, input }) => tokens.revoke(ctx.principal, input)),
  });
}
