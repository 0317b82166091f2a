import { mkdir } from 'node:fs/promises';
import type { PGlite } from '@electric-sql/pglite';
import { lockDataDir } from './data-dir-lock';
import { createSpaceFloor } from './free-space';
import { openPglite } from './pglite-instance';
import type { Queryable, Store } from './store';
import { asStoreError, StoreError } from './store-errors';

export interface PgliteStoreOptions {
  /** Where the database lives; in memory when undefined. */
  dataDir?: string;
  /** Writes are refused (StoreError 'full') while less than this is free on the data dir's disk. @default 0 */
  minFreeBytes?: number;
}

/** After a failed reopen, calls fail at once for this long rather than each trying again. */
const REOPEN_BACKOFF_MS = 1_000;

/**
 * PostgreSQL after a PANIC expects its process to exit. PGlite's does not: the
 * next statement it receives spins forever on the main thread (a WAL segment
 * that could not be created on a full disk does this). So the instance is
 * closed without another statement, and a new one is opened on the next call.
 */
function isPanic(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'severity' in error &&
    (error.severity === 'PANIC' || error.severity === 'FATAL')
  );
}

function wrap(db: PGlite): Queryable {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      return (await db.query<Row>(sql, [...params])).rows;
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
  };
}

/**
 * PostgreSQL in WebAssembly, in `dataDir` (or in memory when it is undefined),
 * locked to this process while open. PGlite has one connection: statements
 * and transactions take turns through one queue of this store's own (not
 * PGlite's `transaction()`, whose ROLLBACK after a PANIC is what would wedge).
 */
export async function createPgliteStore(options: PgliteStoreOptions = {}): Promise<Store> {
  const { dataDir } = options;
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const lock = dataDir ? await lockDataDir(dataDir) : null;
  const floor = dataDir ? createSpaceFloor(dataDir, options.minFreeBytes ?? 0) : null;

  let db: PGlite | null;
  try {
    db = await openPglite(dataDir);
  } catch (error) {
    await lock?.release();
    throw error;
  }
  let reopenFailedAt = Number.NEGATIVE_INFINITY;
  let closed = false;
  let turn: Promise<unknown> = Promise.resolve();

  async function current(): Promise<PGlite> {
    if (db) return db;
    if (closed) throw new StoreError('unavailable', { message: 'the store is closed' });
    if (performance.now() - reopenFailedAt < REOPEN_BACKOFF_MS) throw new StoreError('unavailable');
    await floor?.assertAbove();
    try {
      db = await openPglite(dataDir);
      return db;
    } catch (error) {
      reopenFailedAt = performance.now();
      throw new StoreError('unavailable', { cause: error });
    }
  }

  async function retire(broken: PGlite): Promise<void> {
    if (db === broken) db = null;
    await broken.close().catch(() => {});
  }

  /** Runs `work` alone on the database; a PANIC retires the instance before anything else reaches it. */
  function exclusive<T>(work: (db: PGlite) => Promise<T>): Promise<T> {
    const result = turn.then(async () => {
      const instance = await current();
      try {
        return await work(instance);
      } catch (error) {
        if (isPanic(error)) await retire(instance);
        throw asStoreError(error);
      }
    });
    turn = result.catch(() => {});
    return result;
  }

  return {
    engine: 'pglite',
    query: (sql, params) => exclusive((instance) => wrap(instance).query(sql, params)),
    exec: (sql) => exclusive((instance) => wrap(instance).exec(sql)),
    transaction: (fn) =>
      exclusive(async (instance) => {
        const tx = wrap(instance);
        await tx.exec('BEGIN');
        try {
          const result = await fn(tx);
          await tx.exec('COMMIT');
          return result;
        } catch (error) {
          if (!isPanic(error)) await tx.exec('ROLLBACK');
          throw error;
        }
      }),
    assertWritable: async () => floor?.assertAbove(),
    async close() {
      closed = true;
      await turn;
      await db?.close();
      db = null;
      await lock?.release();
    },
  };
}
