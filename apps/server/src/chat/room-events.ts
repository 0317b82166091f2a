import type { Pushable, RoomEvent, RoomEventsQuery, RoomStreamItem, RoomSynced } from '@tether/protocol';
import type { Bus, ResumableLog, Store, WriteTx } from '@tether/server-core';
import { appendEvents, coalescedRead, lastSeq, lastSeqs, readEvents, resumableStream } from '@tether/server-core';
import type { TrackedEnvelope } from '@trpc/server';

/** A room's event stream id in the event log, and its bus topic. */
export const roomStreamId = (roomId: string) => `room:${roomId}`;

/** One room event to append, built once its seq and commit time are known. */
export interface RoomAppend<E extends RoomEvent> {
  roomId: string;
  build(seq: number, at: Date): E;
}

export interface RoomEventLog {
  /** Appends events to their rooms inside `tx` (each gets its room's next seq); published once `tx` commits. */
  append<E extends RoomEvent>(tx: WriteTx, appends: ReadonlyArray<RoomAppend<E>>): Promise<E[]>;
  /** Replay-then-live stream of one room's events, each once, in seq order and tracked by its seq. */
  stream(query: RoomEventsQuery): Pushable<TrackedEnvelope<RoomStreamItem>>;
}

export function createRoomEventLog(
  store: Store,
  bus: Bus,
  options: {
    /** Where the bus may lose a doorbell: how often streams check their rooms' heads in the store. */
    headCheckMs?: number | null;
  } = {},
): RoomEventLog {
  // Shared by every subscriber: a quiet one holds its room id and its place, nothing else.
  const log: ResumableLog<string, RoomEvent, RoomSynced> = {
    bus,
    topic: roomStreamId,
    read: (roomId, range) => readEvents(store, roomStreamId(roomId), range),
    // Subscribers joining a busy room together share one read of its head.
    lastSeq: coalescedRead((roomId: string) => lastSeq(store, roomStreamId(roomId))),
    synced: (roomId, seq) => ({ type: 'synced', roomId, seq, at: new Date() }),
    ...(options.headCheckMs
      ? {
          headCheck: {
            everyMs: options.headCheckMs,
            lastSeqs: (roomIds: readonly string[]) => lastSeqs(store, roomIds.map(roomStreamId)),
          },
        }
      : {}),
  };
  return {
    async append(tx, appends) {
      const events = await appendEvents(
        tx,
        appends.map(({ roomId, build }) => ({ streamId: roomStreamId(roomId), build })),
      );
      tx.afterCommit(() => {
        // A lost publish delays nobody for long: subscribers read any gap from the store.
        events.forEach((event, i) => {
          bus.publish(roomStreamId(appends[i]?.roomId ?? ''), event).catch(() => {});
        });
      });
      return events;
    },
    stream: ({ roomId, afterSeq }) => resumableStream(log, roomId, afterSeq),
  };
}
