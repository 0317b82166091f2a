import type { Bus } from '../bus/bus';
import type { GroupCommit, WriteTx } from '../store/group-commit';
import type { Queryable } from '../store/store';
import { appendEvents, lastSeq, readEvents } from '../streams/event-log';
import type { Revocation, Revocations } from './revocations';

const STREAM_ID = 'tether:revocations';
const DOORBELL_TOPIC = 'tether:revocations:log';
const PAGE_SIZE = 500;

interface RevocationEvent extends Revocation {
  seq: number;
  /** When it was committed: what `prune` goes by. */
  at: Date;
}

export interface RevocationLogOptions {
  store: Queryable;
  writes: GroupCommit;
  /** Rings every process at once; a ring Redis drops is made good by the next check. */
  bus: Bus;
  /** How often each process reads the log for revocations its bus missed; null where the bus loses nothing. */
  recheckMs: number | null;
  /** A check that could not read the store (it is tried again at the next one), or a listener that threw. */
  onError(error: unknown): void;
}

export interface RevocationLog extends Revocations {
  /** Records a revocation in `tx`, so it stands or falls with the write that caused it (a sign-out, a leave). */
  record(tx: WriteTx, key: string, message: string): Promise<void>;
  /** Starts following from the log's head: what was revoked before this process started is not its business. */
  start(): Promise<void>;
  /** Forgets revocations committed more than `hours` ago (a follower behind by that much misses them). */
  prune(hours: number): Promise<void>;
  close(): void;
}

/**
 * Durable revocations: each one is an event in the store's log (stream
 * `tether:revocations`), committed with the write that caused it, and each
 * process follows the log. The bus only rings the bell, carrying the event so
 * that it is applied at once; a ring that is lost (Redis restarting) or out of
 * order shows as a gap, and the gap, or at the latest the next periodic check,
 * is read from the store. Applying a revocation twice ends nothing twice, so
 * "at least once" is all a follower needs.
 */
export function createRevocationLog(options: RevocationLogOptions): RevocationLog {
  const { store, writes, bus, recheckMs, onError } = options;
  const listeners = new Set<(revocation: Revocation) => void>();
  /** Every revocation up to this seq has been applied here. */
  let position = 0;
  /** Revocations beyond `position` applied from a ring, before the ones between. */
  const early = new Set<number>();
  let reading: Promise<void> | null = null;
  let readAgain = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  /** Set by close: a read still running then may meet a store closing after it, which is no error. */
  let closed = false;
  /** Rings heard before the head was read: those past it are new. */
  let beforeStart: RevocationEvent[] | null = [];

  const apply = (event: RevocationEvent) => {
    for (const listener of listeners) {
      // One listener's failure must not keep the others, or this follower, from the revocations after it.
      try {
        listener({ key: event.key, message: event.message });
      } catch (error) {
        onError(error);
      }
    }
  };
  const advance = () => {
    while (early.delete(position + 1)) position += 1;
  };

  async function readOnce(): Promise<void> {
    for (;;) {
      const events = await readEvents<RevocationEvent>(store, STREAM_ID, { afterSeq: position, limit: PAGE_SIZE });
      for (const event of events) {
        if (!early.delete(event.seq)) apply(event);
        position = event.seq;
      }
      advance();
      if (events.length < PAGE_SIZE) return;
    }
  }

  /** Reads what is past `position`: one read at a time, and one more if asked while it ran. */
  function catchUp(): void {
    if (closed) return;
    if (reading) {
      readAgain = true;
      return;
    }
    readAgain = false;
    reading = readOnce()
      .catch((error: unknown) => {
        if (!closed) onError(error);
      })
      .finally(() => {
        reading = null;
        if (readAgain) catchUp();
      });
  }

  const onRing = (message: unknown) => {
    const event = message as RevocationEvent;
    if (beforeStart) {
      beforeStart.push(event);
      return;
    }
    if (event.seq <= position || early.has(event.seq)) return;
    apply(event);
    early.add(event.seq);
    advance();
    if (early.size > 0) catchUp();
  };

  async function record(tx: WriteTx, key: string, message: string): Promise<void> {
    const [event] = await appendEvents<RevocationEvent>(tx, [
      { streamId: STREAM_ID, build: (seq, at) => ({ seq, at, key, message }) },
    ]);
    tx.afterCommit(() => {
      // Rung first, then here at once; on a bus that delivers at once (one process) the echo is the local
      // application, and a later ring a repeat, ignored.
      bus.publish(DOORBELL_TOPIC, event).catch(() => {});
      onRing(event);
    });
  }

  return {
    record,
    revoke: (key, message) => writes.run((tx) => record(tx, key, message)),
    follow(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async start() {
      bus.subscribe(DOORBELL_TOPIC, onRing);
      // Listening first: a revocation committed after the head was read is rung, not lost between the two.
      await bus.listening(DOORBELL_TOPIC);
      position = await lastSeq(store, STREAM_ID);
      // Closed while starting (a shutdown during start): nothing more to follow.
      if (closed) return;
      const heard = beforeStart ?? [];
      beforeStart = null;
      for (const event of heard) onRing(event);
      if (recheckMs !== null) timer = setInterval(catchUp, recheckMs).unref();
    },
    async prune(hours) {
      await store.query(
        `DELETE FROM stream_events
         WHERE stream_id = $1 AND (payload -> 'json' ->> 'at')::timestamptz < now() - $2 * interval '1 hour'`,
        [STREAM_ID, hours],
      );
    },
    close() {
      closed = true;
      clearInterval(timer);
      bus.unsubscribe(DOORBELL_TOPIC, onRing);
    },
  };
}
