import { z } from 'zod';
import { idSchema, userRefSchema } from './common';

/**
 * Who is in a room now and who is typing: ephemeral, never stored, never
 * replayed. Each item is a full snapshot, so a missed one costs nothing.
 */
export const presenceSchema = z.object({
  roomId: idSchema,
  online: z.array(userRefSchema).describe('users with the room open, in name order'),
  typing: z.array(userRefSchema).describe('users typing in the room right now'),
});
export type Presence = z.infer<typeof presenceSchema>;

export const typingInputSchema = z.object({ roomId: idSchema.describe('room id') });
export type TypingInput = z.infer<typeof typingInputSchema>;
