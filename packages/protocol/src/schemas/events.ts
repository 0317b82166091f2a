import { z } from 'zod';
import { idSchema, LIMITS, seqSchema, userRefSchema } from './common';
import { messageSchema } from './messages';

const eventBase = { roomId: idSchema, seq: seqSchema, at: z.date() };
/**
 * A message event carries the message whole, which already says its room and
 * its time (`createdAt`, `editedAt`): nothing beside it repeats them, since
 * every subscriber receives every byte.
 */
const messageEventBase = { seq: seqSchema };

/** Every durable change to a room. Each has the room's next `seq`; resume replays `seq > lastEventId`. */
export const roomEventSchema = z.discriminatedUnion('type', [
  z.object({ ...messageEventBase, type: z.literal('message.sent'), message: messageSchema }),
  z.object({ ...messageEventBase, type: z.literal('message.edited'), message: messageSchema }),
  z.object({ ...eventBase, type: z.literal('message.deleted'), messageId: idSchema, by: userRefSchema }),
  z.object({ ...eventBase, type: z.literal('member.joined'), member: userRefSchema }),
  z.object({ ...eventBase, type: z.literal('member.left'), member: userRefSchema }),
]);
export type RoomEvent = z.infer<typeof roomEventSchema>;
export type RoomEventType = RoomEvent['type'];

/**
 * Not a change but a position: every event up to `seq` has been delivered and
 * the subscription is live. Sent once per subscription, after the replay (at
 * once when starting live), so a client always holds a resume point and knows
 * when it has caught up.
 */
export const roomSyncedSchema = z.object({ type: z.literal('synced'), roomId: idSchema, seq: seqSchema, at: z.date() });
export type RoomSynced = z.infer<typeof roomSyncedSchema>;

/** What `rooms.events` yields: durable events, and one `synced` marker. */
export type RoomStreamItem = RoomEvent | RoomSynced;

export const roomEventsInputSchema = z.object({
  roomId: idSchema.describe('room id'),
  lastEventId: z
    .string()
    .regex(/^\d{1,10}$/, 'lastEventId must be a seq (a decimal integer)')
    .refine(
      // A non-decimal id is already refused by the pattern above: say so once.
      (id) => !/^\d+$/.test(id) || Number(id) <= LIMITS.seqMax,
      `lastEventId must be a seq no larger than ${LIMITS.seqMax}`,
    )
    .nullish()
    .describe('resume after this seq; tRPC fills it in on reconnect'),
});
export type RoomEventsInput = z.input<typeof roomEventsInputSchema>;

/** What the server's event source receives: resume point already parsed. */
export interface RoomEventsQuery {
  roomId: string;
  /** Replay events with `seq > afterSeq` first; null starts live, with nothing replayed. */
  afterSeq: number | null;
}
