import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../bus/memory-bus';
import { migrate } from '../store/migrate';
import { createPgliteStore } from '../store/pglite-store';
import { PLUMBING_MIGRATIONS } from '../store/plumbing-migrations';
import type { Store } from '../store/store';
import { appendEvents, lastSeq, readEvents, type SequencedEvent } from './event-log';
import { resumableStream } from './resumable-stream';

interface Note extends SequencedEvent {
  text: string;
}

const STREAM = 'notes';
const SYNCED = 'synced';

describe('resumable stream', () => {
  let store: Store;
  const bus = createMemoryBus();
  const controllers: AbortController[] = [];
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
    for (const controller of controllers.splice(0)) controller.abort();
    await store.close();
  });

  function open(afterSeq: number | null) {
    const controller = new AbortController();
    controllers.push(controller);
    const iterator = resumableStream<Note, Note>({
      bus,
      topic: STREAM,
      afterSeq,
      signal: controller.signal,
      pageSize: 2,
      synced: (seq) => ({ seq, text: SYNCED }),
      read: (range) => readEvents(store, STREAM, range),
      lastSeq: () => lastSeq(store, STREAM),
    })[Symbol.asyncIterator]();
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
    return { iterator, take, controller };
  }

  it('skips live events that the replay already delivered', async () => {
    await commit('a');
    await commit('b');
    await commit('c');
    const stream = open(0);
    expect(await stream.take(1)).toEqual(['1:a']);
    // Committed and published while the replay is under way: the replay's next page reads it too.
    const d = await commit('d');
    await bus.publish(STREAM, d);
    expect(await stream.take(4)).toEqual(['2:b', '3:c', '4:d', `4:${SYNCED}`]);
    const e = await commit('e');
    await bus.publish(STREAM, e);
    expect(await stream.take(1)).toEqual(['5:e']);
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

  it('starts live after the newest seq when there is no resume point', async () => {
    await commit('old');
    const stream = open(null);
    expect(await stream.take(1)).toEqual([`1:${SYNCED}`]);
    const fresh = await commit('new');
    await bus.publish(STREAM, fresh);
    expect(await stream.take(1)).toEqual(['2:new']);
  });

  it('ends when its signal aborts, even while waiting for live events', async () => {
    const stream = open(null);
    await stream.take(1);
    const pending = stream.iterator.next();
    stream.controller.abort();
    expect((await pending).done).toBe(true);
  });
});
