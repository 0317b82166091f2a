import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeEngines } from '../testing/store-engines';
import { migrate } from './migrate';
import { PLUMBING_MIGRATIONS } from './plumbing-migrations';
import type { Store } from './store';
import { isUniqueViolation } from './store-errors';

describe.each(storeEngines('store contract', { databaseUrl: process.env.DATABASE_URL }))(
  'store contract: $name',
  (engine) => {
    let store: Store;
    beforeEach(async () => {
      store = await engine.open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('runs parameterised queries and returns typed rows', async () => {
      const rows = await store.query<{ sum: number; label: string }>(
        'SELECT ($1::integer + $2::integer) AS sum, $3::text AS label',
        [2, 3, 'x'],
      );
      expect(rows).toEqual([{ sum: 5, label: 'x' }]);
    });

    it('commits a transaction that resolves and rolls back one that throws', async () => {
      await store.exec('CREATE TABLE notes (body text PRIMARY KEY)');
      await store.transaction((tx) => tx.query('INSERT INTO notes VALUES ($1)', ['kept']));
      await expect(
        store.transaction(async (tx) => {
          await tx.query('INSERT INTO notes VALUES ($1)', ['lost']);
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await store.query('SELECT body FROM notes ORDER BY body')).toEqual([{ body: 'kept' }]);
    });

    it('reports unique violations the same way on every engine', async () => {
      await store.exec('CREATE TABLE names (name text PRIMARY KEY)');
      await store.query('INSERT INTO names VALUES ($1)', ['a']);
      const error = await store.query('INSERT INTO names VALUES ($1)', ['a']).catch((e: unknown) => e);
      expect(isUniqueViolation(error)).toBe(true);
      expect(isUniqueViolation(new Error('other'))).toBe(false);
    });

    it('applies each migration once, however often it runs', async () => {
      const again = await migrate(store, PLUMBING_MIGRATIONS);
      expect(again).toEqual([]);
      const added = await migrate(store, [{ id: 'test-extra', sql: 'CREATE TABLE extra (id integer)' }]);
      expect(added).toEqual(['test-extra']);
    });
  },
);
