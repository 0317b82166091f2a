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
import { authedProcedure, router, scopedProcedure } from '../trpc';

export function createMessagesRouter(messages: Services['messages']) {
  return router({
    send: scopedProcedure('messages:send')
      .input(sendMessageInputSchema)
      .output(messageSchema)
      .mutation(({ ctx, input }) => messages.send(ctx.principal, input)),
    edit: authedProcedure
      .input(editMessageInputSchema)
      .output(messageSchema)
      .mutation(({ ctx, input }) => messages.edit(ctx.principal, input)),
    delete: authedProcedure
      .input(deleteMessageInputSchema)
      .output(z.void())
      .mutation(({ ctx, input }) => messages.delete(ctx.principal, input)),
    list: scopedProcedure('messages:read')
      .input(listMessagesInputSchema)
      .output(messagePageSchema)
      .query(({ ctx, input }) => messages.list(ctx.principal, input)),
  });
}
