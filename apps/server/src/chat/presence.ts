import {
  byUsername,
  type Presence,
  type PresenceUpdate,
  type Pushable,
  type PushSink,
  presenceChanges,
  type UserRef,
} from '@tether/protocol';
import { BucketsByKey, type Bus, createMemoryRoster, pushable, type Roster } from '@tether/server-core';

/** How long "typing" shows after the last keystroke signal. */
export const TYPING_TTL_MS = 5_000;
/** A room's changes on this process are said at most once per tick: a storm of them costs one update per tick. */
export const PRESENCE_TICK_MS = 100;
/** Times a user may start typing in a room at once, and per second after; past it the signal is ignored (it is only a hint). */
const TYPING_STARTS = { burst: 5, ratePerSecond: 1 };
/** How often typing allowances that are full again (as good as none) are forgotten. */
const TYPING_SWEEP_MS = 60_000;

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

/** One watcher: `synced` while it has been sent every update since its snapshot, so a change is enough. */
interface Watcher {
  synced: boolean;
}

/** The watchers of a room on this process, and the room as they were last told. */
interface RoomWatch {
  watchers: Map<PushSink<PresenceUpdate>, Watcher>;
  known: Presence;
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
  tickMs?: number;
  /** A roster or bus failure: presence is best effort, never a crash, and goes on with what it knows. */
  onError?(error: unknown): void;
}

const topicOf = (roomId: string) => `presence:${roomId}`;

/** Everyone in any process's list, once, in name order. */
function union(lists: UserRef[][]): UserRef[] {
  const users = new Map<string, UserRef>();
  for (const list of lists) for (const user of list) users.set(user.id, user);
  return [...users.values()].sort(byUsername);
}

/**
 * Who has a room open and who is typing. Each process keeps its own users in
 * memory and says so in the roster, at most once per tick per room; a change
 * rings the room's doorbell on the bus, and every process with watchers of the
 * room reads the roster and sends its watchers what changed, one object for
 * all of them (serialized once). A watcher gets a snapshot first, and again
 * whenever the transport held an update back because it lagged. Ephemeral by
 * design: nothing is stored, and a restart starts empty (clients re-announce themselves).
 */
export function createPresence(bus: Bus, options: PresenceOptions = {}) {
  const typingTtlMs = options.typingTtlMs ?? TYPING_TTL_MS;
  const tickMs = options.tickMs ?? PRESENCE_TICK_MS;
  const roster = options.roster ?? createMemoryRoster();
  const onError = options.onError ?? (() => {});
  /** Each typing user's allowance of starts, by room and user. */
  const typingStarts = new BucketsByKey(TYPING_STARTS);
  setInterval(() => typingStarts.sweep(), TYPING_SWEEP_MS).unref();
  const mayStartTyping = (roomId: string, userId: string) => typingStarts.of(`${roomId}:${userId}`).take();
  const rooms = new Map<string, LocalRoom>();
  const watches = new Map<string, RoomWatch>();
  /** Rooms said less than a tick ago; `dirty`: changed since, to be said when the tick ends. */
  const saidLately = new Map<string, { dirty: boolean }>();

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

  /** Sends each watcher that was here when the read started what changed, or a snapshot if it needs one. */
  const tell = (watch: RoomWatch, audience: [PushSink<PresenceUpdate>, Watcher][], now: Presence) => {
    const changes = presenceChanges(watch.known, now);
    watch.known = now;
    let snapshot: PresenceUpdate | undefined;
    for (const [sink, watcher] of audience) {
      // Stopped during the read.
      if (watch.watchers.get(sink) !== watcher) continue;
      if (!watcher.synced) {
        snapshot ??= { kind: 'snapshot', ...now };
        watcher.synced = sink.next(snapshot) !== false;
      } else if (changes) {
        watcher.synced = sink.next(changes) !== false;
      }
    }
  };

  /** Reads the room from the roster and tells every watcher here. */
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
        const audience = [...watch.watchers];
        const views = [...(await othersOf(roomId, watch)), localView(roomId)];
        tell(watch, audience, {
          roomId,
          online: union(views.map((view) => view.online)),
          typing: union(views.map((view) => view.typing)),
        });
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
  const say = async (roomId: string) => {
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

  /** The room changed here: said now if it was quiet, else once when its tick ends, with all that changed meanwhile. */
  const changed = (roomId: string) => {
    const lately = saidLately.get(roomId);
    if (lately) {
      lately.dirty = true;
      return;
    }
    const entry = { dirty: false };
    saidLately.set(roomId, entry);
    void say(roomId);
    const endTick = () => {
      if (!entry.dirty) {
        saidLately.delete(roomId);
        return;
      }
      entry.dirty = false;
      void say(roomId);
      setTimeout(endTick, tickMs).unref();
    };
    setTimeout(endTick, tickMs).unref();
  };

  const stopTyping = (roomId: string, userId: string) => {
    const entry = rooms.get(roomId)?.typing.get(userId);
    if (!entry) return;
    clearTimeout(entry.timer);
    rooms.get(roomId)?.typing.delete(userId);
    changed(roomId);
  };

  if (options.recheckMs) {
    setInterval(() => {
      for (const roomId of watches.keys()) void refresh(roomId);
    }, options.recheckMs).unref();
  }

  return {
    /**
     * Marks `user` present while the stream runs; delivers a snapshot, then
     * what changed. Pushed, so a reader that lags is the transport's to
     * handle: it keeps only the latest update, and this sends a snapshot next.
     */
    stream(roomId: string, user: UserRef): Pushable<PresenceUpdate> {
      return pushable((sink) => {
        let watch = watches.get(roomId);
        if (!watch) {
          watch = {
            watchers: new Map(),
            known: { roomId, online: [], typing: [] },
            others: [],
            reading: false,
            again: false,
          };
          watches.set(roomId, watch);
          bus.subscribe(topicOf(roomId), onDoorbell);
        }
        watch.watchers.set(sink, { synced: false });
        if (watch.reading) watch.again = true;
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
            const current = watches.get(roomId);
            if (current?.watchers.delete(sink) && current.watchers.size === 0) {
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
            changed(roomId);
          },
        };
      });
    },
    /** Shows `user` typing for a while; a user who starts too often is not shown (typing is only a hint). */
    typing(roomId: string, user: UserRef): void {
      const current = rooms.get(roomId)?.typing.get(user.id);
      if (!current && !mayStartTyping(roomId, user.id)) return;
      const room = roomOf(roomId);
      if (current) clearTimeout(current.timer);
      const timer = setTimeout(() => stopTyping(roomId, user.id), typingTtlMs);
      timer.unref?.();
      room.typing.set(user.id, { user, timer });
      if (!current) changed(roomId);
    },
    stopTyping,
  };
}

export type PresenceTracker = ReturnType<typeof createPresence>;
