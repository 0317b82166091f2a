import { z } from 'zod';
import { idSchema, userRefSchema } from './common';

/**
 * Who is in a room now and who is typing: ephemeral, never stored, never
 * replayed. A subscriber is sent the whole of it once, then only what changed.
 */
export const presenceSchema = z.object({
  roomId: idSchema,
  online: z.array(userRefSchema).describe('users with the room open, in name order'),
  typing: z.array(userRefSchema).describe('users typing in the room right now, in name order'),
});
export type Presence = z.infer<typeof presenceSchema>;

/**
 * What the presence subscription yields. First a `snapshot`; then `changes`,
 * each summing up what changed in the room over a short tick. A subscriber that
 * lagged behind is sent a `snapshot` again, which replaces all it knew.
 */
export const presenceUpdateSchema = z.discriminatedUnion('kind', [
  presenceSchema.extend({ kind: z.literal('snapshot') }),
  z.object({
    kind: z.literal('changes'),
    roomId: idSchema,
    joined: z.array(userRefSchema).describe('users who opened the room'),
    left: z.array(idSchema).describe('ids of users who closed it'),
    typingStarted: z.array(userRefSchema),
    typingStopped: z.array(idSchema),
  }),
]);
export type PresenceUpdate = z.infer<typeof presenceUpdateSchema>;
export type PresenceChanges = Extract<PresenceUpdate, { kind: 'changes' }>;

export const typingInputSchema = z.object({ roomId: idSchema.describe('room id') });
export type TypingInput = z.infer<typeof typingInputSchema>;
