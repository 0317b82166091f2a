import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeEngines } from '../testing/store-engines';
import { sweepIdempotencyKeys } from './idempotency';
import type { Store } from './store';

describe.each(storeEngines('idempotency sweep', { databaseUrl: process.env.DATABASE_URL }))(
  'idempotency sweep: $name',
  (engine) => {
    let store: Store;
    beforeEach(async () => {
      store = await engine.open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('forgets keys past their retention, in chunks, and keeps the recent ones', async () => {
      // More old keys than one chunk deletes, so the sweep must go round.
      await store.query(
        `INSERT INTO idempotency_keys (principal_id, key, request_hash, response, created_at)
       SELECT 'p', 'old-' || i, 'h', '{}'::jsonb, now() - interval '72 hours' FROM generate_series(1, 12000) AS i`,
      );
      await store.query(
        `INSERT INTO idempotency_keys (principal_id, key, request_hash, response)
       SELECT 'p', 'new-' || i, 'h', '{}'::jsonb FROM generate_series(1, 10) AS i`,
      );
      expect(await sweepIdempotencyKeys(store, 48)).toBe(12_000);
      const left = await store.query<{ key: string }>('SELECT key FROM idempotency_keys ORDER BY key');
      expect(left.map((row) => row.key)).toEqual(Array.from({ length: 10 }, (_, i) => `new-${i + 1}`).sort());
    });
  },
);
