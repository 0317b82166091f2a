import { z } from 'zod';
import { idSchema, seqSchema, userRefSchema } from './common';
import { messageSchema } from './messages';

const eventBase = { roomId: idSchema, seq: seqSchema, at: z.date() };

/** Every durable change to a room. Each has the room's next `seq`; resume replays `seq > lastEventId`. */
export const roomEventSchema = z.discriminatedUnion('type', [
  z.object({ ...eventBase, type: z.literal('message.sent'), message: messageSchema }),
  z.object({ ...eventBase, type: z.literal('message.edited'), message: messageSchema }),
  z.object({ ...eventBase, type: z.literal('message.deleted'), messageId: idSchema, by: userRefSchema }),
  z.object({ ...eventBase, type: z.literal('member.joined'), member: userRefSchema }),
  z.object({ ...eventBase, type: z.literal('member.left'), member: userRefSchema }),
]);
export type RoomEvent = z.infer<typeof roomEventSchema>;
export type RoomEventType = RoomEvent['type'];

export const roomEventsInputSchema = z.object({
  roomId: idSchema.describe('room id'),
  lastEventId: z
    .string()
    .regex(/^\d+$/, 'lastEventId must be a seq (a decimal integer)')
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
