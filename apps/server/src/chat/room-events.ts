import type { RoomEvent, RoomEventsQuery, RoomStreamItem, RoomSynced } from '@tether/protocol';
import type { Bus } from '../bus/bus';
import type { Queryable, Store } from '../store/store';
import { appendEvent, lastSeq, readEvents } from '../streams/event-log';
import { resumableStream } from '../streams/resumable-stream';

/** A room's event stream id in the event log, and its bus topic. */
export const roomStreamId = (roomId: string) => `room:${roomId}`;

export type AppendRoomEvent = <E extends RoomEvent>(roomId: string, build: (seq: number, at: Date) => E) => Promise<E>;

export interface RoomEventLog {
  /**
   * Runs `change` in one transaction; events it appends get the room's next seqs
   * and are published on the bus only after the commit.
   */
  write<T>(change: (tx: Queryable, append: AppendRoomEvent) => Promise<T>): Promise<T>;
  /** Replay-then-live stream of one room's events, each once and in seq order. */
  stream(query: RoomEventsQuery, signal: AbortSignal): AsyncIterable<RoomStreamItem>;
}

export function createRoomEventLog(store: Store, bus: Bus): RoomEventLog {
  return {
    async write(change) {
      const appended: RoomEvent[] = [];
      const result = await store.transaction((tx) =>
        change(tx, async <E extends RoomEvent>(roomId: string, build: (seq: number, at: Date) => E) => {
          const event = await appendEvent(tx, roomStreamId(roomId), build);
          appended.push(event);
          return event;
        }),
      );
      for (const event of appended) await bus.publish(roomStreamId(event.roomId), event);
      return result;
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
