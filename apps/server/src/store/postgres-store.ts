import pg from 'pg';
import type { Queryable, Store } from './store';

type PgQueryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

function wrap(db: PgQueryable): Queryable {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await db.query(sql, [...params]);
      return result.rows as Row[];
    },
    async exec(sql: string) {
      await db.query(sql);
    },
  };
}

export interface PostgresStoreOptions {
  url: string;
  /** Schema to use instead of `public` (tests isolate themselves this way). */
  schema?: string;
  maxConnections?: number;
}

/** PostgreSQL at `url`, through a connection pool. */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle client's error (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  await pool.query('SELECT 1');
  return {
    engine: 'postgres',
    ...wrap(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
