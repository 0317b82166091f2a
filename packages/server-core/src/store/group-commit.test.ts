import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeEngines } from '../testing/store-engines';
import { createGroupCommit, type WriteTx } from './group-commit';
import type { Store } from './store';
import { StoreError } from './store-errors';

/** Counts how many works run at once; each holds its transaction open for a moment in the database. */
function overlapMeter() {
  let active = 0;
  let most = 0;
  return {
    get most() {
      return most;
    },
    async during(tx: WriteTx): Promise<void> {
      active += 1;
      most = Math.max(most, active);
      await tx.query('SELECT pg_sleep(0.02)');
      active -= 1;
    },
  };
}

describe.each(storeEngines('group commit', { databaseUrl: process.env.DATABASE_URL }))(
  'group commit: $name',
  (engine) => {
    let store: Store;
    beforeEach(async () => {
      store = await engine.open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('never runs a generic write beside another batch, whatever the lanes', async () => {
      const writes = createGroupCommit(store, { concurrency: 2, maxBatch: 1 });
      const meter = overlapMeter();
      await Promise.all(Array.from({ length: 8 }, () => writes.run((tx) => meter.during(tx))));
      expect(meter.most).toBe(1);
    });

    it('runs batches of concurrent-safe writes side by side where the engine has connections for it', async () => {
      const writes = createGroupCommit(store, { concurrency: 2, maxBatch: 1 });
      const meter = overlapMeter();
      const write = writes.define(
        async (tx, requests: readonly number[]) => {
          await meter.during(tx);
          return requests.map((value) => ({ ok: true as const, value }));
        },
        { concurrent: true },
      );
      expect(await Promise.all([write(1, null), write(2, null), write(3, null)])).toEqual([1, 2, 3]);
      // PGlite has one connection: its store runs one transaction at a time whatever the lanes.
      expect(meter.most).toBe(engine.name === 'postgres' ? 2 : 1);
    });

    it('refuses writes past the queue bound as busy instead of queueing them', async () => {
      const writes = createGroupCommit(store, { maxQueued: 2 });
      const outcomes = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => writes.run(async () => i)));
      expect(outcomes.slice(0, 2)).toEqual([
        { status: 'fulfilled', value: 0 },
        { status: 'fulfilled', value: 1 },
      ]);
      for (const outcome of outcomes.slice(2)) {
        expect(outcome).toMatchObject({ status: 'rejected', reason: expect.any(StoreError) });
      }
    });

    it('runs every after-commit effect even when one throws', async () => {
      const writes = createGroupCommit(store);
      const ran = new Promise<string>((resolve) => {
        void writes.run(async (tx) => {
          tx.afterCommit(() => {
            throw new Error('a broken effect');
          });
          tx.afterCommit(() => resolve('the next effect ran'));
        });
      });
      expect(await ran).toBe('the next effect ran');
    });
  },
);
