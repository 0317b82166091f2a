import { z } from 'zod';
import {
  deleteMessageInputSchema,
  editMessageInputSchema,
  listMessagesInputSchema,
  messagePageSchema,
  messageSchema,
  sendMessageInputSchema,
} from '../schemas/messages';
import type { Services } from '../services';
import { authedProcedure, onceByKey, router, scopedProcedure } from '../trpc';

export function createMessagesRouter(messages: Services['messages']) {
  return router({
    send: scopedProcedure('messages:send')
      .input(sendMessageInputSchema)
      .use(onceByKey)
      .output(messageSchema)
      .mutation(({ ctx, input }) => messages.send(ctx.principal, input, ctx.once)),
    edit: authedProcedure
      .input(editMessageInputSchema)
      .use(onceByKey)
      .output(messageSchema)
      .mutation(({ ctx, input }) => messages.edit(ctx.principal, input, ctx.once)),
    delete: authedProcedure
      .input(deleteMessageInputSchema)
      .use(onceByKey)
      .output(z.void())
      .mutation(({ ctx, input }) => messages.delete(ctx.principal, input, ctx.once)),
    list: scopedProcedure('messages:read')
      .input(listMessagesInputSchema)
      .output(messagePageSchema)
      .query(({ ctx, input }) => messages.list(ctx.principal, input)),
  });
}
