import type { Presence, Pushable, UserRef } from '@tether/protocol';
import { type Bus, pushable } from '@tether/server-core';

/** How long "typing" shows after the last keystroke signal. */
export const TYPING_TTL_MS = 5_000;

interface RoomPresence {
  /** Open presence streams per user (a user may have the room open in several tabs). */
  online: Map<string, { user: UserRef; streams: number }>;
  typing: Map<string, { user: UserRef; timer: ReturnType<typeof setTimeout> }>;
}

const topicOf = (roomId: string) => `presence:${roomId}`;
const byName = (a: UserRef, b: UserRef) => a.username.localeCompare(b.username);

/**
 * Who has a room open and who is typing, kept in this process's memory and
 * fanned out on the bus as full snapshots. Ephemeral by design: nothing is
 * stored, and a restart starts empty (clients re-announce themselves).
 */
export function createPresence(bus: Bus, options: { typingTtlMs?: number } = {}) {
  const typingTtlMs = options.typingTtlMs ?? TYPING_TTL_MS;
  const rooms = new Map<string, RoomPresence>();

  const roomOf = (roomId: string): RoomPresence => {
    let room = rooms.get(roomId);
    if (!room) {
      room = { online: new Map(), typing: new Map() };
      rooms.set(roomId, room);
    }
    return room;
  };
  const snapshot = (roomId: string): Presence => {
    const room = rooms.get(roomId);
    return {
      roomId,
      online: [...(room?.online.values() ?? [])].map((entry) => entry.user).sort(byName),
      typing: [...(room?.typing.values() ?? [])].map((entry) => entry.user).sort(byName),
    };
  };
  const changed = (roomId: string) => {
    const room = rooms.get(roomId);
    if (room && room.online.size === 0 && room.typing.size === 0) rooms.delete(roomId);
    void bus.publish(topicOf(roomId), snapshot(roomId));
  };
  const stopTyping = (roomId: string, userId: string) => {
    const entry = rooms.get(roomId)?.typing.get(userId);
    if (!entry) return;
    clearTimeout(entry.timer);
    rooms.get(roomId)?.typing.delete(userId);
    changed(roomId);
  };

  return {
    /**
     * Marks `user` present while the stream runs; delivers the current
     * snapshot, then every change. Pushed, so a reader that lags is the
     * transport's to handle: it keeps only the latest snapshot for it.
     */
    stream(roomId: string, user: UserRef): Pushable<Presence> {
      return pushable((sink) => {
        const topic = topicOf(roomId);
        const listener = (message: unknown) => sink.next(message as Presence);
        bus.subscribe(topic, listener);
        const room = roomOf(roomId);
        const entry = room.online.get(user.id) ?? { user, streams: 0 };
        entry.streams += 1;
        room.online.set(user.id, entry);
        changed(roomId);
        let stopped = false;
        return {
          stop() {
            if (stopped) return;
            stopped = true;
            bus.unsubscribe(topic, listener);
            entry.streams -= 1;
            if (entry.streams === 0) room.online.delete(user.id);
            stopTyping(roomId, user.id);
            changed(roomId);
          },
        };
      });
    },
    typing(roomId: string, user: UserRef): void {
      const room = roomOf(roomId);
      const existing = room.typing.get(user.id);
      if (existing) clearTimeout(existing.timer);
      const timer = setTimeout(() => stopTyping(roomId, user.id), typingTtlMs);
      timer.unref?.();
      room.typing.set(user.id, { user, timer });
      if (!existing) changed(roomId);
    },
    stopTyping,
  };
}

export type PresenceTracker = ReturnType<typeof createPresence>;
