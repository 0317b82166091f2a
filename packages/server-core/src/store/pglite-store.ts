import { mkdir, statfs } from 'node:fs/promises';
import { errorMessage } from '../logger';
import { lockDataDir } from './data-dir-lock';
import { createSpaceFloor } from './free-space';
import { openPglite, type PgliteHandle } from './pglite-instance';
import type { Queryable, Store } from './store';
import { asStoreError, StoreError } from './store-errors';

export interface PgliteStoreOptions {
  /** Where the database lives; in memory when undefined. */
  dataDir?: string;
  /** Writes are refused (StoreError 'full') while less than this is free on the data dir's disk. @default 0 */
  minFreeBytes?: number;
  /** A statement that has not returned after this long stops the database, which reopens on the next call. @default 10_000 */
  statementTimeoutMs?: number;
}

/** After a failed reopen, calls fail at once for this long rather than each trying again. */
const REOPEN_BACKOFF_MS = 1_000;

/**
 * PostgreSQL after a PANIC expects its process to exit; PGlite's does not, and
 * it may spin forever in that statement or the next (a WAL segment that could
 * not be created on a full disk does this). So after a PANIC the instance is
 * sent nothing more, and one that does not answer in time is stopped; either
 * way a new one opens on the next call, and WAL replay restores every commit.
 */
function isPanic(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'severity' in error &&
    (error.severity === 'PANIC' || error.severity === 'FATAL')
  );
}

/** PGlite says only that it "failed to initialize": the free space on its disk is the usual reason, so say it. */
async function explainOpenFailure(dataDir: string | undefined, error: unknown): Promise<Error> {
  const reason = errorMessage(error);
  if (!dataDir) return new Error(`the embedded database could not start: ${reason}`);
  const stats = await statfs(dataDir).catch(() => null);
  const free = stats ? `; ${Math.floor((stats.bavail * stats.bsize) / 2 ** 20)} MiB of space free on its disk` : '';
  return new Error(`the embedded database could not open ${dataDir}: ${reason}${free}`);
}

/**
 * PostgreSQL in WebAssembly, in `dataDir` (or in memory when it is undefined),
 * locked to this process while open, running in a worker thread. PGlite has
 * one connection: statements and transactions take turns through one queue of
 * this store's own (not PGlite's `transaction()`, which would send a ROLLBACK after a PANIC).
 */
export async function createPgliteStore(options: PgliteStoreOptions = {}): Promise<Store> {
  const { dataDir } = options;
  const statementTimeoutMs = options.statementTimeoutMs ?? 10_000;
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const lock = dataDir ? await lockDataDir(dataDir) : null;
  const floor = dataDir ? createSpaceFloor(dataDir, options.minFreeBytes ?? 0) : null;

  let db: PgliteHandle | null;
  try {
    db = await openPglite(dataDir, statementTimeoutMs);
  } catch (error) {
    await lock?.release();
    throw await explainOpenFailure(dataDir, error);
  }
  let reopenFailedAt = Number.NEGATIVE_INFINITY;
  let closed = false;
  /** Set when a thread could not be stopped: another instance on the same files could corrupt them. */
  let stuck = false;
  let turn: Promise<unknown> = Promise.resolve();

  async function current(): Promise<PgliteHandle> {
    if (db) return db;
    if (closed) throw new StoreError('unavailable', { message: 'the store is closed' });
    if (stuck) throw new StoreError('unavailable', { message: 'the database is stuck; the server needs a restart' });
    if (performance.now() - reopenFailedAt < REOPEN_BACKOFF_MS) throw new StoreError('unavailable');
    await floor?.assertAbove();
    try {
      db = await openPglite(dataDir, statementTimeoutMs);
      return db;
    } catch (error) {
      reopenFailedAt = performance.now();
      throw new StoreError('unavailable', { cause: error });
    }
  }

  /** Runs `work` alone on the database; a PANIC or a hang retires the instance before anything else reaches it. */
  function exclusive<T>(work: (db: PgliteHandle) => Promise<T>): Promise<T> {
    const result = turn.then(async () => {
      const instance = await current();
      try {
        return await work(instance);
      } catch (error) {
        if (isPanic(error) || instance.dead) {
          if (db === instance) db = null;
          if (!(await instance.kill())) stuck = true;
        }
        throw asStoreError(error);
      }
    });
    turn = result.catch(() => {});
    return result;
  }

  return {
    engine: 'pglite',
    query: (sql, params) => exclusive((instance) => instance.query(sql, params)),
    exec: (sql) => exclusive((instance) => instance.exec(sql)),
    transaction: (fn) =>
      exclusive(async (instance) => {
        const tx: Queryable = instance;
        await tx.exec('BEGIN');
        try {
          const result = await fn(tx);
          await tx.exec('COMMIT');
          return result;
        } catch (error) {
          if (!isPanic(error) && !instance.dead) await tx.exec('ROLLBACK');
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
