import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { Queryable, Store } from './store';

type PgliteQueryable = Pick<PGlite, 'query' | 'exec'>;

function wrap(db: PgliteQueryable): Queryable {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await db.query<Row>(sql, [...params]);
      return result.rows;
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
  };
}

/**
 * PostgreSQL in WebAssembly, in `dataDir` (or in memory when it is undefined).
 * PGlite has one connection, so its transactions run one at a time.
 */
export async function createPgliteStore(options: { dataDir?: string } = {}): Promise<Store> {
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir);
  return {
    engine: 'pglite',
    ...wrap(db),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    close: () => db.close(),
  };
}
