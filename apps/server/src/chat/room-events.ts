import type { RoomEvent, RoomEventsQuery, RoomStreamItem, RoomSynced } from '@tether/protocol';
import type { Bus, Store, WriteTx } from '@tether/server-core';
import { appendEvents, lastSeq, readEvents, resumableStream } from '@tether/server-core';
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
  stream(query: RoomEventsQuery, signal: AbortSignal): AsyncIterable<TrackedEnvelope<RoomStreamItem>>;
}

export function createRoomEventLog(store: Store, bus: Bus): RoomEventLog {
  return {
    async append(tx, appends) {
      const events = await appendEvents(
        tx,
        appends.map(({ roomId, build }) => ({ streamId: roomStreamId(roomId), build })),
      );
      tx.afterCommit(() => {
        // A lost publish delays nobody for long: subscribers read any gap from the store.
        for (const event of events) bus.publish(roomStreamId(event.roomId), event).catch(() => {});
      });
      return events;
    },
    stream({ roomId, afterSeq }, signal) {
      const streamId = roomStreamId(roomId);
      return resumableStream<RoomEvent, RoomSynced>({
        bus,
        topic: streamId,
        afterSeq,
        signal,
        synced: (seq) => ({ type: 'synced', roomId, seq, at: new Date() }),
        read: (range) => readEvents(store, streamId, range),
        lastSeq: () => lastSeq(store, streamId),
      });
    },
  };
}
