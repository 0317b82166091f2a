import { afterAll, describe, expect, it } from 'vitest';
import type { Bus } from './bus';

/** Two handles on one backend: two processes' buses over Redis, or the one in-process bus twice. */
export interface BusPair {
  a: Bus;
  b: Bus;
  /** Errors the buses reported (a listener that threw, a backend failure). */
  errors: unknown[];
  close(): Promise<void>;
}

/** Collects what a listener hears and lets a test wait for a count, without sleeping. */
function hearing() {
  const heard: unknown[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const listener = (message: unknown) => {
    heard.push(message);
    for (const waiter of waiters.filter((w) => heard.length >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const until = (count: number) =>
    new Promise<void>((resolve) => (heard.length >= count ? resolve() : waiters.push({ count, resolve })));
  return { heard, listener, until };
}

/**
 * What every bus promises, run against each implementation (the pattern of
 * hono's shared router tests). `open` gives a fresh pair sharing a backend,
 * with topics of their own.
 */
export function describeBusContract(name: string, open: () => Promise<BusPair>): void {
  describe(`the bus contract: ${name}`, () => {
    const pairs: BusPair[] = [];
    const pair = async () => {
      const opened = await open();
      pairs.push(opened);
      return opened;
    };
    afterAll(async () => {
      await Promise.all(pairs.map((p) => p.close()));
    });

    it('delivers every message on a topic to every listener on every bus, in publish order', async () => {
      const { a, b } = await pair();
      const onA = hearing();
      const onB = hearing();
      a.subscribe('room:1', onA.listener);
      b.subscribe('room:1', onB.listener);
      await Promise.all([a.listening('room:1'), b.listening('room:1')]);
      for (let n = 1; n <= 50; n += 1) await a.publish('room:1', { seq: n });
      await Promise.all([onA.until(50), onB.until(50)]);
      const seqs = Array.from({ length: 50 }, (_, i) => ({ seq: i + 1 }));
      expect(onA.heard).toEqual(seqs);
      expect(onB.heard).toEqual(seqs);
    });

    it('keeps topics apart, and carries Dates, Maps and undefined fields intact', async () => {
      const { a, b } = await pair();
      const one = hearing();
      const two = hearing();
      b.subscribe('one', one.listener);
      b.subscribe('two', two.listener);
      await Promise.all([b.listening('one'), b.listening('two')]);
      const at = new Date('2026-11-21T10:00:00.000Z');
      await a.publish('two', { at, seen: new Map([['x', 1]]), note: undefined });
      await a.publish('one', 'first');
      await Promise.all([one.until(1), two.until(1)]);
      expect(one.heard).toEqual(['first']);
      const [message] = two.heard as Array<{ at: Date; seen: Map<string, number> }>;
      expect(message?.at).toBeInstanceOf(Date);
      expect(message?.at.getTime()).toBe(at.getTime());
      expect(message?.seen.get('x')).toBe(1);
    });

    it('stops delivering to a listener that unsubscribed, and goes on for the others', async () => {
      const { a, b } = await pair();
      const leaving = hearing();
      const staying = hearing();
      b.subscribe('t', leaving.listener);
      b.subscribe('t', staying.listener);
      await b.listening('t');
      await a.publish('t', 1);
      await Promise.all([leaving.until(1), staying.until(1)]);
      b.unsubscribe('t', leaving.listener);
      b.unsubscribe('t', leaving.listener);
      await a.publish('t', 2);
      await staying.until(2);
      expect(leaving.heard).toEqual([1]);
      expect(staying.heard).toEqual([1, 2]);
    });

    it('spares the other listeners when one throws, and reports it', async () => {
      const { a, b, errors } = await pair();
      const heard = hearing();
      b.subscribe('t', () => {
        throw new Error('broken listener');
      });
      b.subscribe('t', heard.listener);
      await b.listening('t');
      await a.publish('t', 'one').catch((error: unknown) => errors.push(error));
      await a.publish('t', 'two').catch((error: unknown) => errors.push(error));
      await heard.until(2);
      expect(heard.heard).toEqual(['one', 'two']);
      expect(errors.some((error) => error instanceof Error && error.message === 'broken listener')).toBe(true);
    });
  });
}
