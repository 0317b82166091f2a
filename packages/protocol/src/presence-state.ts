import type { UserRef } from './schemas/common';
import type { Presence, PresenceChanges, PresenceUpdate } from './schemas/presence';

/**
 * Presence as state: what changed between two views of a room, and an update
 * folded into a view. Types only from the schemas, so a client that folds
 * presence loads no validation code.
 */

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
