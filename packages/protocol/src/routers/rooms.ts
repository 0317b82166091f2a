import { tracked } from '@trpc/server';
import { z } from 'zod';
import { type RoomStreamItem, roomEventsInputSchema } from '../schemas/events';
import { typingInputSchema } from '../schemas/presence';
import {
  createRoomInputSchema,
  inviteInputSchema,
  memberSchema,
  roomRefInputSchema,
  roomSchema,
} from '../schemas/rooms';
import type { Services } from '../services';
import { authedProcedure, onceByKey, router, scopedSubscription, subscriptionProcedure } from '../trpc';

async function* trackBySeq(events: AsyncIterable<RoomStreamItem>) {
  for await (const event of events) yield tracked(String(event.seq), event);
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
    events: scopedSubscription('messages:read')
      .input(roomEventsInputSchema)
      .subscription(async ({ ctx, input, signal }) => {
        const afterSeq = input.lastEventId == null ? null : Number(input.lastEventId);
        const query = { roomId: input.roomId, afterSeq };
        // Awaited here so that a refusal (FORBIDDEN, NOT_FOUND) fails the subscription before it starts.
        const events = await rooms.events(ctx.principal, query, signal ?? new AbortController().signal);
        return trackBySeq(events);
      }),
    /** Ephemeral snapshots, untracked and apart from `events`, so they never move its resume point. */
    presence: subscriptionProcedure
      .input(roomRefInputSchema)
      .subscription(async ({ ctx, input, signal }) =>
        rooms.presence(ctx.principal, input, signal ?? new AbortController().signal),
      ),
    typing: authedProcedure
      .input(typingInputSchema)
      .output(z.void())
      .mutation(({ ctx, input }) => rooms.typing(ctx.principal, input)),
  });
}
