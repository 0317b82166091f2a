import pg from 'pg';
import type { Queryable, Store } from './store';
import { asStoreError, StoreError } from './store-errors';

type PgQueryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

function wrap(db: PgQueryable): Queryable {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      try {
        const result = await db.query(sql, [...params]);
        return result.rows as Row[];
      } catch (error) {
        throw asStoreError(error);
      }
    },
    async exec(sql: string) {
      try {
        await db.query(sql);
      } catch (error) {
        throw asStoreError(error);
      }
    },
  };
}

export interface PostgresStoreOptions {
  url: string;
  /** Schema to use instead of `public` (tests isolate themselves this way). */
  schema?: string;
  /** @default 10 */
  maxConnections?: number;
  /** The server cancels a statement running longer than this. @default 10_000 */
  statementTimeoutMs?: number;
  /** Opening a connection, or waiting for a free one from the pool, fails after this long. @default 5_000 */
  connectTimeoutMs?: number;
}

/**
 * PostgreSQL at `url`, through a connection pool that survives the database
 * going away: a lost connection fails the calls using it with a StoreError and
 * is replaced on the next call, so service resumes by itself when the database is back.
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const statementTimeoutMs = options.statementTimeoutMs ?? 10_000;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    // Server side: a runaway statement is cancelled, and a session stuck in a transaction frees its locks.
    statement_timeout: statementTimeoutMs,
    idle_in_transaction_session_timeout: statementTimeoutMs * 3,
    // Client side: a database that stops answering at all (frozen, network cut) still fails the call.
    query_timeout: statementTimeoutMs + 2_000,
    keepAlive: true,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle client's error (server restart) must not crash the process; the pool drops it.
  pool.on('error', () => {});
  await wrap(pool).query('SELECT 1');
  return {
    engine: 'postgres',
    ...wrap(pool),
    async transaction(fn) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw asStoreError(error);
      }
      // A checked-out client has no listener of the pool's: without one, a dropped connection crashes the process.
      let lost: Error | undefined;
      const onError = (error: Error) => {
        lost = error;
      };
      client.on('error', onError);
      const tx = wrap(client);
      try {
        await tx.exec('BEGIN');
        const result = await fn(tx);
        await tx.exec('COMMIT');
        return result;
      } catch (error) {
        const failure = asStoreError(error);
        // After a database failure (a read timeout leaves the statement running) a ROLLBACK would only
        // queue behind it: the connection is dropped instead, and PostgreSQL rolls back on disconnect.
        if (failure instanceof StoreError) lost ??= failure;
        else await client.query('ROLLBACK').catch((rollbackError: Error) => (lost = rollbackError));
        throw failure;
      } finally {
        client.off('error', onError);
        // A broken client is destroyed rather than handed to the next caller.
        client.release(lost);
      }
    },
    async assertWritable() {
      // The database's own disk: a full one answers 53100, which becomes StoreError('full').
    },
    close: () => pool.end(),
  };
}
