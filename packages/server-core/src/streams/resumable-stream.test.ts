import { type PushSink, pushInto } from '@tether/protocol';
import type { TrackedEnvelope } from '@trpc/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../bus/memory-bus';
import { migrate } from '../store/migrate';
import { createPgliteStore } from '../store/pglite-store';
import { PLUMBING_MIGRATIONS } from '../store/plumbing-migrations';
import type { Store } from '../store/store';
import { appendEvents, lastSeq, lastSeqs, readEvents, type SequencedEvent } from './event-log';
import { type ResumableLog, resumableStream } from './resumable-stream';

interface Note extends SequencedEvent {
  text: string;
}

const STREAM = 'notes';
const SYNCED = 'synced';

describe('resumable stream', () => {
  let store: Store;
  const bus = createMemoryBus();
  const iterators: AsyncIterator<unknown>[] = [];
  /** Commits a note to the store without publishing it. */
  const commit = async (text: string): Promise<Note> => {
    const [note] = await store.transaction((tx) =>
      appendEvents<Note>(tx, [{ streamId: STREAM, build: (seq) => ({ seq, text }) }]),
    );
    if (!note) throw new Error('nothing appended');
    return note;
  };

  beforeEach(async () => {
    store = await createPgliteStore();
    await migrate(store, PLUMBING_MIGRATIONS);
  });
  afterEach(async () => {
    for (const iterator of iterators.splice(0)) await iterator.return?.();
    await store.close();
  });

  const log: ResumableLog<string, Note, Note> = {
    bus,
    topic: (key) => key,
    pageSize: 2,
    synced: (_key, seq) => ({ seq, text: SYNCED }),
    read: (key, range) => readEvents(store, key, range),
    lastSeq: (key) => lastSeq(store, key),
  };

  function open(afterSeq: number | null) {
    const iterator = resumableStream(log, STREAM, afterSeq)[Symbol.asyncIterator]();
    iterators.push(iterator);
    const take = async (count: number) => {
      const items: string[] = [];
      for (let i = 0; i < count; i += 1) {
        const { value } = await iterator.next();
        const [id, item] = value ?? [];
        // Every item is tracked by its seq, the resume point a client sends back.
        expect(id).toBe(String(item?.seq));
        items.push(`${item?.seq}:${item?.text}`);
      }
      return items;
    };
    return { iterator, take };
  }

  it('skips live events that the replay already delivered', async () => {
    await commit('a');
    await commit('b');
    await commit('c');
    let reads = 0;
    const racing: ResumableLog<string, Note, Note> = {
      ...log,
      async read(key, range) {
        // Before the second page: 'd' is committed and published while the replay is under way.
        reads += 1;
        if (reads === 2) await bus.publish(STREAM, await commit('d'));
        return log.read(key, range);
      },
    };
    const iterator = resumableStream(racing, STREAM, 0)[Symbol.asyncIterator]();
    iterators.push(iterator);
    const items: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const { value } = await iterator.next();
      items.push(`${value?.[1].seq}:${value?.[1].text}`);
    }
    // The replay's second page read 'd' too: the live copy that waited is skipped.
    expect(items).toEqual(['1:a', '2:b', '3:c', '4:d', `4:${SYNCED}`]);
    await bus.publish(STREAM, await commit('e'));
    const { value } = await iterator.next();
    expect(value?.[1]).toEqual({ seq: 5, text: 'e' });
  });

  it('delivers live events in seq order when they are published out of order', async () => {
    const stream = open(null);
    expect(await stream.take(1)).toEqual([`0:${SYNCED}`]);
    const first = await commit('first');
    const second = await commit('second');
    await bus.publish(STREAM, second);
    await bus.publish(STREAM, first);
    const third = await commit('third');
    await bus.publish(STREAM, third);
    expect(await stream.take(3)).toEqual(['1:first', '2:second', '3:third']);
  });

  it('reads a gap from the store when the bus never delivers an event', async () => {
    const stream = open(0);
    expect(await stream.take(1)).toEqual([`0:${SYNCED}`]);
    await commit('lost on the bus');
    const seen = await commit('published');
    await bus.publish(STREAM, seen);
    expect(await stream.take(2)).toEqual(['1:lost on the bus', '2:published']);
  });

  it('catches a quiet stream up to its head when every doorbell was lost, and stops checking once it ends', async () => {
    let checks = 0;
    const checked: ResumableLog<string, Note, Note> = {
      ...log,
      headCheck: {
        everyMs: 10,
        lastSeqs: (keys) => {
          checks += 1;
          return lastSeqs(store, keys);
        },
      },
    };
    const iterator = resumableStream(checked, STREAM, null)[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.[1]).toEqual({ seq: 0, text: SYNCED });
    // Committed, never published, and nothing after them: only the head check can tell.
    await commit('lost 1');
    await commit('lost 2');
    expect((await iterator.next()).value?.[1]).toEqual({ seq: 1, text: 'lost 1' });
    expect((await iterator.next()).value?.[1]).toEqual({ seq: 2, text: 'lost 2' });
    await iterator.return?.();
    const afterEnd = checks;
    // The checks' timer went with the last stream: a later head read would have counted.
    const later = await lastSeq(store, STREAM);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(checks).toBe(afterEnd);
    expect(later).toBe(2);
  });

  it('reads a gap once for every subscriber on the process that missed it', async () => {
    let gapReads = 0;
    const counted: ResumableLog<string, Note, Note> = {
      ...log,
      read: (key, range) => {
        if (range.untilSeq !== undefined) gapReads += 1;
        return readEvents(store, key, range);
      },
      headCheck: { everyMs: 10, lastSeqs: (keys) => lastSeqs(store, keys) },
    };
    const subscribers = Array.from({ length: 50 }, () =>
      resumableStream(counted, STREAM, null)[Symbol.asyncIterator](),
    );
    iterators.push(...subscribers);
    for (const subscriber of subscribers)
      expect((await subscriber.next()).value?.[1]).toEqual({ seq: 0, text: SYNCED });
    // Two events in one commit, never published: every subscriber finds the same gap at the same head check.
    await store.transaction((tx) =>
      appendEvents<Note>(tx, [
        { streamId: STREAM, build: (seq) => ({ seq, text: 'lost 1' }) },
        { streamId: STREAM, build: (seq) => ({ seq, text: 'lost 2' }) },
      ]),
    );
    for (const subscriber of subscribers) {
      expect((await subscriber.next()).value?.[1]).toEqual({ seq: 1, text: 'lost 1' });
      expect((await subscriber.next()).value?.[1]).toEqual({ seq: 2, text: 'lost 2' });
    }
    expect(gapReads).toBe(1);
  });

  it('starts live after the newest seq when there is no resume point', async () => {
    await commit('old');
    const stream = open(null);
    expect(await stream.take(1)).toEqual([`1:${SYNCED}`]);
    const fresh = await commit('new');
    await bus.publish(STREAM, fresh);
    expect(await stream.take(1)).toEqual(['2:new']);
  });

  it('ends when its reader returns, even while waiting for live events', async () => {
    const stream = open(null);
    await stream.take(1);
    const pending = stream.iterator.next();
    await stream.iterator.return?.();
    expect((await pending).done).toBe(true);
  });

  it('pushes each item without a pull, and a stopped push hears nothing more', async () => {
    await commit('replayed');
    const seen: string[] = [];
    let synced!: () => void;
    const live = new Promise<void>((resolve) => {
      synced = resolve;
    });
    const run = resumableStream(log, STREAM, 0)[pushInto]({
      next: ([, item]) => {
        seen.push(`${item.seq}:${item.text}`);
        if (item.text === SYNCED) synced();
        return true;
      },
      error: (cause) => seen.push(`error ${String(cause)}`),
      complete: () => seen.push('complete'),
    });
    await live;
    // The memory bus delivers synchronously: a live event is pushed before publish returns.
    await bus.publish(STREAM, await commit('live'));
    expect(seen).toEqual(['1:replayed', `1:${SYNCED}`, '2:live']);
    run.stop();
    await bus.publish(STREAM, await commit('after stop'));
    expect(seen).toHaveLength(3);
  });

  it('asks its pacer before each page and tells it when the page is delivered, also when stopped meanwhile', async () => {
    for (const text of ['a', 'b', 'c']) await commit(text);
    const seen: string[] = [];
    let stopNow: (() => void) | null = null;
    let pageOver: (() => void) | null = null;
    let synced!: () => void;
    const live = new Promise<void>((resolve) => {
      synced = resolve;
    });
    const sink: PushSink<TrackedEnvelope<Note>> = {
      next: ([, item]) => {
        seen.push(item.text);
        if (item.text === SYNCED) synced();
        return true;
      },
      error: () => {},
      complete: () => {},
      paced: async () => {
        seen.push('may I?');
        stopNow?.();
        return () => {
          seen.push('done');
          pageOver?.();
        };
      },
    };
    // Pages of 2: a full page, then the last one, short; each delivered before its pacer hears it is done.
    const whole = resumableStream(log, STREAM, 0)[pushInto](sink);
    await live;
    whole.stop();
    expect(seen).toEqual(['may I?', 'a', 'b', 'done', 'may I?', 'c', 'done', SYNCED]);
    // Stopped once its read was allowed: it reads nothing, and says it is done all the same.
    seen.length = 0;
    const stopped = resumableStream(log, STREAM, 0)[pushInto](sink);
    stopNow = () => stopped.stop();
    await new Promise<void>((resolve) => {
      pageOver = resolve;
    });
    expect(seen).toEqual(['may I?', 'done']);
  });

  it('fails, and stops listening, when a gap is missing from the store', async () => {
    const stream = open(null);
    expect(await stream.take(1)).toEqual([`0:${SYNCED}`]);
    // Published but never committed: the store cannot fill seqs 1..4.
    await bus.publish(STREAM, { seq: 5, text: 'from nowhere' });
    await expect(stream.iterator.next()).rejects.toThrow(/events 1\.\.4 missing from the store/);
    expect((await stream.iterator.next()).done).toBe(true);
  });
});
