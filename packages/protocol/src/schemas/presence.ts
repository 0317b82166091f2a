import { z } from 'zod';
import { idSchema, type UserRef, userRefSchema } from './common';

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

/** The order presence lists users in. */
export const byUsername = (a: UserRef, b: UserRef): number => a.username.localeCompare(b.username);

function applyToList(list: UserRef[], added: UserRef[], removedIds: string[]): UserRef[] {
  const removed = new Set([...removedIds, ...added.map((user) => user.id)]);
  return [...list.filter((user) => !removed.has(user.id)), ...added].sort(byUsername);
}

function listDiff(before: UserRef[], after: UserRef[]): { added: UserRef[]; removed: string[] } {
  const beforeIds = new Set(before.map((user) => user.id));
  const afterIds = new Set(after.map((user) => user.id));
  return {
    added: after.filter((user) => !beforeIds.has(user.id)),
    removed: before.filter((user) => !afterIds.has(user.id)).map((user) => user.id),
  };
}

/** What changed from `before` to `after`, or null when nothing did: what `applyPresenceUpdate` folds back. */
export function presenceChanges(before: Presence, after: Presence): PresenceChanges | null {
  const online = listDiff(before.online, after.online);
  const typing = listDiff(before.typing, after.typing);
  const count = online.added.length + online.removed.length + typing.added.length + typing.removed.length;
  if (count === 0) return null;
  return {
    kind: 'changes',
    roomId: after.roomId,
    joined: online.added,
    left: online.removed,
    typingStarted: typing.added,
    typingStopped: typing.removed,
  };
}

/**
 * Folds an update into what a subscriber knows of the room: a snapshot
 * replaces it; changes are applied to it (before any snapshot, to nobody).
 */
export function applyPresenceUpdate(known: Presence | null, update: PresenceUpdate): Presence {
  if (update.kind === 'snapshot') return { roomId: update.roomId, online: update.online, typing: update.typing };
  // Changes to another room than the one known (a late update of a room left behind) change nothing here.
  if (known && known.roomId !== update.roomId) return known;
  const base = known ?? { roomId: update.roomId, online: [], typing: [] };
  return {
    roomId: update.roomId,
    online: applyToList(base.online, update.joined, update.left),
    typing: applyToList(base.typing, update.typingStarted, update.typingStopped),
  };
}

export const typingInputSchema = z.object({ roomId: idSchema.describe('room id') });
export type TypingInput = z.infer<typeof typingInputSchema>;
