import type { Presence, Pushable, PushSink, UserRef } from '@tether/protocol';
import { type Bus, createMemoryRoster, pushable, type Roster } from '@tether/server-core';

/** How long "typing" shows after the last keystroke signal. */
export const TYPING_TTL_MS = 5_000;

/** Who has the room open and who types in it, on this process. */
interface LocalRoom {
  /** Open presence streams per user (a user may have the room open in several tabs). */
  online: Map<string, { user: UserRef; streams: number }>;
  typing: Map<string, { user: UserRef; timer: ReturnType<typeof setTimeout> }>;
}

/** What one process says of a room in the roster. */
interface RoomView {
  online: UserRef[];
  typing: UserRef[];
}

/** The watchers of a room on this process, and what each was sent last. */
interface RoomWatch {
  sinks: Map<PushSink<Presence>, string>;
  /** Who was online on the other processes at the last read that reached the roster (typing is too fleeting to keep). */
  others: RoomView[];
  /** A read of the roster is under way; `again`: something changed meanwhile, so read once more after it. */
  reading: boolean;
  again: boolean;
}

export interface PresenceOptions {
  /** Where each process says who is in its rooms; the process alone when absent. */
  roster?: Roster;
  /**
   * Every this often, the rooms watched here are read again, so the users of
   * a process that died (its roster entries lapsed) disappear without a
   * doorbell. Only where there are other processes.
   */
  recheckMs?: number | null;
  typingTtlMs?: number;
  /** A roster or bus failure: presence is best effort, never a crash, and goes on with what it knows. */
  onError?(error: unknown): void;
}

const topicOf = (roomId: string) => `presence:${roomId}`;
const byName = (a: UserRef, b: UserRef) => a.username.localeCompare(b.username);

/** Everyone in any process's view, once, sorted by name. */
function union(lists: UserRef[][]): UserRef[] {
  const users = new Map<string, UserRef>();
  for (const list of lists) for (const user of list) users.set(user.id, user);
  return [...users.values()].sort(byName);
}

/**
 * Who has a room open and who is typing. Each process keeps its own users in
 * memory and says so in the roster; a change rings the room's doorbell on the
 * bus, and every process with watchers of the room reads the roster and sends
 * each watcher the new snapshot, if it changed. Ephemeral by design: nothing is
 * stored, and a restart starts empty (clients re-announce themselves).
 */
export function createPresence(bus: Bus, options: PresenceOptions = {}) {
  const typingTtlMs = options.typingTtlMs ?? TYPING_TTL_MS;
  const roster = options.roster ?? createMemoryRoster();
  const onError = options.onError ?? (() => {});
  const rooms = new Map<string, LocalRoom>();
  const watches = new Map<string, RoomWatch>();

  const roomOf = (roomId: string): LocalRoom => {
    let room = rooms.get(roomId);
    if (!room) {
      room = { online: new Map(), typing: new Map() };
      rooms.set(roomId, room);
    }
    return room;
  };

  /** This process's own users of the room: the truth, whatever becomes of the roster. */
  const localView = (roomId: string): RoomView => {
    const room = rooms.get(roomId);
    return {
      online: room ? [...room.online.values()].map((entry) => entry.user) : [],
      typing: room ? [...room.typing.values()].map((entry) => entry.user) : [],
    };
  };

  /**
   * The other processes' views of the room, from the roster; when it cannot be
   * reached (Redis away), who was online on them last, so that the changes made here still show.
   */
  const othersOf = async (roomId: string, watch: RoomWatch): Promise<RoomView[]> => {
    try {
      const views = (await roster.others(roomId)) as RoomView[];
      watch.others = views.map((view) => ({ online: view.online, typing: [] }));
      return views;
    } catch (error) {
      onError(error);
      return watch.others;
    }
  };

  /** Reads the room from the roster and sends the snapshot to every watcher here that has not got it. */
  const refresh = async (roomId: string): Promise<void> => {
    const watch = watches.get(roomId);
    if (!watch) return;
    if (watch.reading) {
      watch.again = true;
      return;
    }
    watch.reading = true;
    try {
      do {
        watch.again = false;
        // Who was here when the read started: a watcher that joins during it waits for the next read (`again`),
        // so it is never shown a snapshot older than itself.
        const audience = [...watch.sinks.keys()];
        const views = [...(await othersOf(roomId, watch)), localView(roomId)];
        const presence: Presence = {
          roomId,
          online: union(views.map((view) => view.online)),
          typing: union(views.map((view) => view.typing)),
        };
        const text = JSON.stringify(presence);
        for (const sink of audience) {
          const last = watch.sinks.get(sink);
          if (last === undefined || last === text) continue;
          watch.sinks.set(sink, text);
          sink.next(presence);
        }
      } while (watch.again);
    } catch (error) {
      onError(error);
    } finally {
      watch.reading = false;
    }
  };
  const onDoorbell = (message: unknown) => {
    void refresh((message as { roomId: string }).roomId);
  };

  /** Says this process's view of the room in the roster, then rings the room's doorbell on every process. */
  const changed = async (roomId: string) => {
    const view = localView(roomId);
    const empty = view.online.length === 0 && view.typing.length === 0;
    if (empty) rooms.delete(roomId);
    try {
      await roster.put(roomId, empty ? null : view);
      await bus.publish(topicOf(roomId), { roomId });
    } catch (error) {
      onError(error);
      // Redis away: the watchers here still see the change, beside what the others said last.
      void refresh(roomId);
    }
  };
  const stopTyping = (roomId: string, userId: string) => {
    const entry = rooms.get(roomId)?.typing.get(userId);
    if (!entry) return;
    clearTimeout(entry.timer);
    rooms.get(roomId)?.typing.delete(userId);
    void changed(roomId);
  };

  if (options.recheckMs) {
    setInterval(() => {
      for (const roomId of watches.keys()) void refresh(roomId);
    }, options.recheckMs).unref();
  }

  return {
    /**
     * Marks `user` present while the stream runs; delivers the current
     * snapshot, then every change. Pushed, so a reader that lags is the
     * transport's to handle: it keeps only the latest snapshot for it.
     */
    stream(roomId: string, user: UserRef): Pushable<Presence> {
      return pushable((sink) => {
        let watch = watches.get(roomId);
        if (!watch) {
          watch = { sinks: new Map(), others: [], reading: false, again: false };
          watches.set(roomId, watch);
          bus.subscribe(topicOf(roomId), onDoorbell);
        }
        watch.sinks.set(sink, '');
        if (watch.reading) watch.again = true;
        const room = roomOf(roomId);
        const entry = room.online.get(user.id) ?? { user, streams: 0 };
        entry.streams += 1;
        room.online.set(user.id, entry);
        void changed(roomId);
        let stopped = false;
        return {
          stop() {
            if (stopped) return;
            stopped = true;
            const current = watches.get(roomId);
            if (current?.sinks.delete(sink) && current.sinks.size === 0) {
              watches.delete(roomId);
              bus.unsubscribe(topicOf(roomId), onDoorbell);
            }
            entry.streams -= 1;
            if (entry.streams === 0) room.online.delete(user.id);
            const typing = room.typing.get(user.id);
            if (typing) {
              clearTimeout(typing.timer);
              room.typing.delete(user.id);
            }
            void changed(roomId);
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
      if (!existing) void changed(roomId);
    },
    stopTyping,
  };
}

export type PresenceTracker = ReturnType<typeof createPresence>;
