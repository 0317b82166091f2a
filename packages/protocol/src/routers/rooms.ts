import { z } from 'zod';
import type { Context } from '../context';
import { roomEventsInputSchema } from '../schemas/events';
import { typingInputSchema } from '../schemas/presence';
import {
  createRoomInputSchema,
  inviteInputSchema,
  memberSchema,
  roomRefInputSchema,
  roomSchema,
} from '../schemas/rooms';
import type { Services, StreamScope } from '../services';
import { authedProcedure, onceByKey, router, scopedProcedure } from '../trpc';

/** The scope a subscription's service sees: its signal, bound to the session that runs it. */
function streamScope(ctx: Context, signal: AbortSignal | undefined): StreamScope {
  const scoped = signal ?? new AbortController().signal;
  return {
    signal: scoped,
    endOnRevoke: (key, message) => ctx.session.endOnRevoke(scoped, key, message),
  };
}

export function createRoomsRouter(rooms: Services['rooms']) {
  return router({
    create: authedProcedure
      .input(createRoomInputSchema)
      .use(onceByKey)
      .output(roomSchema)
      .mutation(({ ctx, input }) => rooms.create(ctx.principal, input, ctx.once)),
    list: authedProcedure.output(z.array(roomSchema)).query(({ ctx }) => rooms.list(ctx.principal)),
    join: authedProcedure
      .input(roomRefInputSchema)
      .output(roomSchema)
      .mutation(({ ctx, input }) => rooms.join(ctx.principal, input)),
    leave: authedProcedure
      .input(roomRefInputSchema)
      .output(z.void())
      .mutation(({ ctx, input }) => rooms.leave(ctx.principal, input)),
    invite: authedProcedure
      .input(inviteInputSchema)
      .output(memberSchema)
      .mutation(({ ctx, input }) => rooms.invite(ctx.principal, input)),
    members: authedProcedure
      .input(roomRefInputSchema)
      .output(z.array(memberSchema))
      .query(({ ctx, input }) => rooms.members(ctx.principal, input)),
    /** Durable room events, each tracked by its seq so a reconnect resumes with `lastEventId`. */
    events: scopedProcedure('messages:read')
      .input(roomEventsInputSchema)
      .subscription(({ ctx, input, signal }) => {
        const afterSeq = input.lastEventId == null ? null : Number(input.lastEventId);
        // Awaited by tRPC, so that a refusal (FORBIDDEN, NOT_FOUND) fails the subscription before it starts.
        return rooms.events(ctx.principal, { roomId: input.roomId, afterSeq }, streamScope(ctx, signal));
      }),
    /** Ephemeral snapshots, untracked and apart from `events`, so they never move its resume point. */
    presence: authedProcedure
      .input(roomRefInputSchema)
      .subscription(({ ctx, input, signal }) => rooms.presence(ctx.principal, input, streamScope(ctx, signal))),
    typing: authedProcedure
      .input(typingInputSchema)
      .output(z.void())
      .mutation(({ ctx, input }) => rooms.typing(ctx.principal, input)),
  });
}
