import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bus } from '../bus/bus';
import { createMemoryBus } from '../bus/memory-bus';
import { createGroupCommit, type GroupCommit } from '../store/group-commit';
import type { Store } from '../store/store';
import { readEvents } from '../streams/event-log';
import { storeEngines } from '../testing/store-engines';
import { createRevocationLog, type RevocationLog } from './revocation-log';

/**
 * A bus that drops what is published while `dropping` is set: the one fake
 * here, for Redis losing a message (a real Redis restart does this in
 * apps/server's fault tests, where it cannot be aimed at one message).
 */
function lossyBus(inner: Bus): Bus & { dropping: boolean } {
  return {
    dropping: false,
    publish(topic, message) {
      return this.dropping ? Promise.resolve() : inner.publish(topic, message);
    },
    subscribe: (topic, listener) => inner.subscribe(topic, listener),
    unsubscribe: (topic, listener) => inner.unsubscribe(topic, listener),
    listening: (topic) => inner.listening(topic),
    close: () => inner.close(),
  };
}

/** One server process's view of the log: the keys it has heard, in order, and a wait for the next ones. */
interface Follower {
  log: RevocationLog;
  heard: string[];
  /** Resolves once `count` keys in all have been heard here. */
  hearing(count: number): Promise<string[]>;
}

describe.each(storeEngines('revocation log', { databaseUrl: process.env.DATABASE_URL }))(
  'revocation log: $name',
  (engine) => {
    let store: Store;
    let writes: GroupCommit;
    const logs: RevocationLog[] = [];

    beforeEach(async () => {
      store = await engine.open();
      writes = createGroupCommit(store);
    });
    afterEach(async () => {
      for (const log of logs.splice(0)) log.close();
      await store.close();
    });

    async function follower(bus: Bus, recheckMs: number | null = null): Promise<Follower> {
      const log = createRevocationLog({
        store,
        writes,
        bus,
        recheckMs,
        onError: (error) => expect.fail(String(error)),
      });
      logs.push(log);
      const heard: string[] = [];
      const waits: Array<{ count: number; resolve(keys: string[]): void }> = [];
      log.follow(({ key }) => {
        heard.push(key);
        for (const wait of waits.filter((w) => heard.length >= w.count)) wait.resolve([...heard]);
      });
      await log.start();
      return {
        log,
        heard,
        hearing: (count) =>
          heard.length >= count
            ? Promise.resolve([...heard])
            : new Promise((resolve) => waits.push({ count, resolve })),
      };
    }

    it('is heard once on every process, the one that revoked included', async () => {
      const bus = createMemoryBus();
      const [a, b] = [await follower(bus), await follower(bus)];
      await a.log.revoke('sign-in:1', 'signed out');
      await b.log.revoke('sign-in:2', 'signed out');
      // The second revocation is the barrier: a repeat of the first would have come before it.
      expect(await a.hearing(2)).toEqual(['sign-in:1', 'sign-in:2']);
      expect(await b.hearing(2)).toEqual(['sign-in:1', 'sign-in:2']);
    });

    it('reaches a process whose bus lost the ring at its next check', async () => {
      const a = await follower(createMemoryBus());
      // Another bus altogether: nothing rung on a's reaches b.
      const b = await follower(createMemoryBus(), 20);
      await a.log.revoke('service-token:7', 'service token revoked');
      expect(await b.hearing(1)).toEqual(['service-token:7']);
    });

    it('reads a gap from the store as soon as a later ring shows it', async () => {
      const bus = lossyBus(createMemoryBus());
      const a = await follower(bus);
      const b = await follower(bus);
      bus.dropping = true;
      await a.log.revoke('sign-in:lost', 'signed out');
      // Heard here first, and rung in the same breath: once heard, the ring is gone.
      await a.hearing(1);
      bus.dropping = false;
      await a.log.revoke('sign-in:rung', 'signed out');
      // b has no periodic check: only the gap in seqs could have told it of the lost one.
      expect(await b.hearing(2)).toEqual(['sign-in:rung', 'sign-in:lost']);
      await a.log.revoke('sign-in:after', 'signed out');
      expect(await b.hearing(3)).toEqual(['sign-in:rung', 'sign-in:lost', 'sign-in:after']);
    });

    it('is not heard when the write that made it rolls back', async () => {
      const bus = createMemoryBus();
      const a = await follower(bus);
      const b = await follower(bus, 20);
      await expect(
        writes.run(async (tx) => {
          await a.log.record(tx, 'sign-in:rolled-back', 'signed out');
          throw new Error('the sign-out failed');
        }),
      ).rejects.toThrow('the sign-out failed');
      await a.log.revoke('sign-in:committed', 'signed out');
      expect(await a.hearing(1)).toEqual(['sign-in:committed']);
      expect(await b.hearing(1)).toEqual(['sign-in:committed']);
    });

    it('starts at the head: what was revoked before a process started is not replayed to it', async () => {
      const bus = createMemoryBus();
      const a = await follower(bus);
      await a.log.revoke('sign-in:old', 'signed out');
      const late = await follower(bus, 20);
      await a.log.revoke('sign-in:new', 'signed out');
      expect(await late.hearing(1)).toEqual(['sign-in:new']);
    });

    it('goes on past a listener that throws, reporting it', async () => {
      const bus = createMemoryBus();
      const a = await follower(bus);
      const errors: unknown[] = [];
      const b = createRevocationLog({ store, writes, bus, recheckMs: null, onError: (error) => errors.push(error) });
      logs.push(b);
      const heard: string[] = [];
      b.follow(({ key }) => {
        if (key === 'sign-in:poison') throw new Error('a listener failed');
      });
      b.follow(({ key }) => heard.push(key));
      await b.start();
      await a.log.revoke('sign-in:poison', 'signed out');
      await a.log.revoke('sign-in:next', 'signed out');
      expect(await a.hearing(2)).toEqual(['sign-in:poison', 'sign-in:next']);
      expect(heard).toEqual(['sign-in:poison', 'sign-in:next']);
      expect(errors).toHaveLength(1);
    });

    it('says nothing of a read that its closing store cut short', async () => {
      // The periodic read is held at the door until the log and then the store have closed, as at shutdown.
      let reachedRead!: () => void;
      const readHeld = new Promise<void>((resolve) => {
        reachedRead = resolve;
      });
      let letRead!: () => void;
      const gate = new Promise<void>((resolve) => {
        letRead = resolve;
      });
      let heldRead: Promise<unknown> | undefined;
      let holding = false;
      const held: Store = Object.create(store, {
        query: {
          value: (sql: string, params?: unknown[]) => {
            if (!holding || !sql.includes('FROM stream_events')) return store.query(sql, params);
            reachedRead();
            heldRead = gate.then(() => store.query(sql, params));
            return heldRead;
          },
        },
      });
      const errors: unknown[] = [];
      const log = createRevocationLog({
        store: held,
        writes,
        bus: createMemoryBus(),
        recheckMs: 5,
        onError: (error) => errors.push(error),
      });
      await log.start();
      holding = true;
      await readHeld;
      log.close();
      await store.close();
      letRead();
      await expect(heldRead).rejects.toThrow();
      // The log's own handler runs on the same rejection, one turn later.
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(errors).toEqual([]);
      store = await engine.open();
    });

    it('prunes what is older than its retention and keeps the rest', async () => {
      const a = await follower(createMemoryBus());
      await a.log.revoke('sign-in:1', 'signed out');
      await a.log.prune(1);
      expect(await readEvents(store, 'tether:revocations', { afterSeq: 0, limit: 10 })).toHaveLength(1);
      await a.log.prune(0);
      expect(await readEvents(store, 'tether:revocations', { afterSeq: 0, limit: 10 })).toHaveLength(0);
    });
  },
);
