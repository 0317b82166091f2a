import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../bus/memory-bus';
import { migrate } from '../store/migrate';
import { createPgliteStore } from '../store/pglite-store';
import { PLUMBING_MIGRATIONS } from '../store/plumbing-migrations';
import type { Store } from '../store/store';
import { appendEvent, lastSeq, readEvents, type SequencedEvent } from './event-log';
import { resumableStream } from './resumable-stream';

interface Note extends SequencedEvent {
  text: string;
}

const STREAM = 'notes';

describe('resumable stream', () => {
  let store: Store;
  const bus = createMemoryBus();
  const append = (text: string) => store.transaction((tx) => appendEvent<Note>(tx, STREAM, (seq) => ({ seq, text })));

  beforeEach(async () => {
    store = await createPgliteStore();
    await migrate(store, PLUMBING_MIGRATIONS);
  });
  afterEach(async () => {
    await store.close();
  });

  function open(afterSeq: number | null, signal: AbortSignal) {
    return resumableStream<Note>({
      bus,
      topic: STREAM,
      afterSeq,
      signal,
      pageSize: 2,
      read: (range) => readEvents(store, STREAM, range),
      lastSeq: () => lastSeq(store, STREAM),
    })[Symbol.asyncIterator]();
  }

  it('replays after the resume point, then delivers live events once, in order, even when published out of order', async () => {
    const stored = [await append('a'), await append('b'), await append('c')];
    const controller = new AbortController();
    const stream = open(1, controller.signal);
    expect((await stream.next()).value).toEqual(stored[1]);
    // Live events arrive while replay is still under way: a duplicate of c, then e before d.
    const d = await append('d');
    const e = await append('e');
    await bus.publish(STREAM, stored[2]);
    await bus.publish(STREAM, e);
    await bus.publish(STREAM, d);
    const rest: Note[] = [];
    for (let i = 0; i < 3; i += 1) rest.push((await stream.next()).value as Note);
    expect(rest.map((n) => n.text)).toEqual(['c', 'd', 'e']);
    controller.abort();
    expect((await stream.next()).done).toBe(true);
  });

  it('starts live without replay when there is no resume point', async () => {
    await append('old');
    const controller = new AbortController();
    const stream = open(null, controller.signal);
    const first = stream.next();
    const fresh = await append('new');
    await bus.publish(STREAM, fresh);
    expect((await first).value).toEqual(fresh);
    controller.abort();
  });

  it('fills a gap from the store when live events skip ahead', async () => {
    const controller = new AbortController();
    const stream = open(0, controller.signal);
    const missed = await append('missed by the bus');
    const seen = await append('published');
    const firstTwo = [stream.next(), stream.next()];
    await bus.publish(STREAM, seen);
    expect((await Promise.all(firstTwo)).map((r) => r.value)).toEqual([missed, seen]);
    controller.abort();
  });
});
