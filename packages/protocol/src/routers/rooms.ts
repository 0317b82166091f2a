import { z } from 'zod';
import type { Context } from '../context';
import { roomEventsInputSchema } from '../schemas/events';
import { typingInputSchema } from '../schemas/presence';
import {
  createRoomInputSchema,
  findRoomInputSchema,
  inviteInputSchema,
  memberSchema,
  roomPageInputSchema,
  roomPageSchema,
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
    /** The rooms the caller belongs to, public and private, a page at a time. */
    list: authedProcedure
      .input(roomPageInputSchema)
      .output(roomPageSchema)
      .query(({ ctx, input }) => rooms.list(ctx.principal, input)),
    /** Public rooms, joined or not, a page at a time: where a user finds a room to join. */
    directory: authedProcedure
      .input(roomPageInputSchema)
      .output(roomPageSchema)
      .query(({ ctx, input }) => rooms.directory(ctx.principal, input)),
    /** One room the caller may read (public, or private with them as a member): NOT_FOUND, or FORBIDDEN for a private one. */
    get: authedProcedure
      .input(roomRefInputSchema)
      .output(roomSchema)
      .query(({ ctx, input }) => rooms.get(ctx.principal, input)),
    /**
     * A room by name, as people type it: the caller's own, else the public one; NOT_FOUND when there is
     * none they may read, CONFLICT (with the ids) when they belong to several of that name.
     */
    find: authedProcedure
      .input(findRoomInputSchema)
      .output(roomSchema)
      .query(({ ctx, input }) => rooms.find(ctx.principal, input)),
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
