import { type TrackedEnvelope, tracked } from '@trpc/server';
import type { Bus } from '../bus/bus';
import { AsyncQueue } from './async-queue';
import type { SequencedEvent } from './event-log';

export interface ResumableStreamOptions<E extends SequencedEvent, M extends SequencedEvent> {
  bus: Bus;
  topic: string;
  /** Durable events with `afterSeq < seq <= untilSeq`, in seq order, at most `limit`. */
  read(range: { afterSeq: number; untilSeq?: number; limit: number }): Promise<E[]>;
  /** The newest committed seq. */
  lastSeq(): Promise<number>;
  /** Replay events after this seq first; null starts live. */
  afterSeq: number | null;
  signal: AbortSignal;
  /** Builds the marker yielded once replay is done (at once when starting live): "delivered up to seq". */
  synced(seq: number): M;
  /** Replay page size. */
  pageSize?: number;
}

/**
 * Exactly-once, in-order delivery across replay and live (docs/ARCHITECTURE.md, "Resume
 * on the server"): attach the live listener first, replay `seq > afterSeq`
 * from the store, mark the hand-over with `synced`, then drain live events,
 * skipping what was replayed. A live
 * event ahead of the next expected seq triggers a gap read from the store,
 * so order holds even when publishers are out of order. Every item is tracked
 * by its seq (the `synced` marker by the last seq delivered), so a client
 * that reconnects resumes with `lastEventId`.
 */
export async function* resumableStream<E extends SequencedEvent, M extends SequencedEvent>(
  options: ResumableStreamOptions<E, M>,
): AsyncGenerator<TrackedEnvelope<E | M>, void, undefined> {
  const { bus, topic, read, signal, pageSize = 500 } = options;
  const live = new AsyncQueue<E>(signal);
  // Only the event log's writer publishes on this topic, always with an E.
  const unsubscribe = bus.subscribe(topic, (message) => live.push(message as E));
  try {
    let nextSeq: number;
    if (options.afterSeq === null) {
      nextSeq = (await options.lastSeq()) + 1;
    } else {
      nextSeq = options.afterSeq + 1;
      for (;;) {
        const page = await read({ afterSeq: nextSeq - 1, limit: pageSize });
        for (const event of page) {
          yield tracked(String(event.seq), event);
          nextSeq = event.seq + 1;
        }
        if (page.length < pageSize || signal.aborted) break;
      }
    }
    yield tracked(String(nextSeq - 1), options.synced(nextSeq - 1));
    for (let event = await live.next(); event; event = await live.next()) {
      if (event.seq < nextSeq) continue;
      if (event.seq > nextSeq) {
        // Every seq below a committed one is committed (event-log.ts), so the store has the gap.
        const missing = await read({ afterSeq: nextSeq - 1, untilSeq: event.seq - 1, limit: event.seq - nextSeq });
        for (const gapEvent of missing) {
          if (gapEvent.seq !== nextSeq) break;
          yield tracked(String(gapEvent.seq), gapEvent);
          nextSeq += 1;
        }
        if (nextSeq !== event.seq) {
          throw new Error(`${topic}: events ${nextSeq}..${event.seq - 1} missing from the store`);
        }
      }
      yield tracked(String(event.seq), event);
      nextSeq = event.seq + 1;
    }
  } finally {
    unsubscribe();
  }
}
