import type { TetherClient } from '@tether/client';
import type { RoomEvent } from '@tether/protocol';

export interface RoomObserver {
  /** Durable events in arrival order (the `synced` markers are counted, not kept). */
  readonly events: RoomEvent[];
  readonly errors: unknown[];
  syncedCount(): number;
  /** Resolves once a `synced` marker has arrived (the subscription is live). */
  readonly live: Promise<void>;
  /** Resolves once an event with `seq >= target` has arrived. */
  untilSeq(target: number): Promise<void>;
  stop(): void;
}

/** Subscribes to a room's events and keeps what arrives, for exactly-once checks. */
export function observeRoom(client: TetherClient, roomId: string, lastEventId?: string): RoomObserver {
  const events: RoomEvent[] = [];
  const errors: unknown[] = [];
  const waiters: Array<{ target: number; resolve: () => void }> = [];
  let synced = 0;
  let markLive: () => void = () => {};
  const live = new Promise<void>((resolve) => {
    markLive = resolve;
  });
  const lastSeq = () => events.at(-1)?.seq ?? 0;
  const subscription = client.trpc.rooms.events.subscribe(
    { roomId, ...(lastEventId === undefined ? {} : { lastEventId }) },
    {
      onData: ({ data }) => {
        if (data.type === 'synced') {
          synced += 1;
          markLive();
          return;
        }
        events.push(data);
        for (const waiter of waiters.filter((w) => lastSeq() >= w.target)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      },
      onError: (error) => errors.push(error),
    },
  );
  return {
    events,
    errors,
    syncedCount: () => synced,
    live,
    untilSeq(target) {
      if (lastSeq() >= target) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ target, resolve }));
    },
    stop: () => subscription.unsubscribe(),
  };
}

/** Seqs that appear more than once, and seqs missing between the first and the last. */
export function gapsAndDuplicates(events: RoomEvent[]): { gaps: number[]; duplicates: number[] } {
  const seen = new Set<number>();
  const duplicates: number[] = [];
  for (const { seq } of events) {
    if (seen.has(seq)) duplicates.push(seq);
    seen.add(seq);
  }
  const first = events[0]?.seq ?? 1;
  const last = events.at(-1)?.seq ?? 0;
  const gaps: number[] = [];
  for (let seq = first; seq <= last; seq += 1) if (!seen.has(seq)) gaps.push(seq);
  return { gaps, duplicates };
}
