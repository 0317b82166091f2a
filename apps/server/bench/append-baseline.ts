import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { type LoopBounds, type LoopResult, runClosedLoop } from './closed-loop';

/**
 * The floor under `messages.send`: a bare transaction of the same shape as a
 * send (bump the stream's seq, append one event), on bench-owned tables, with
 * nothing of the server around it (no WebSocket, tRPC, auth or idempotency).
 */

type Query = (sql: string, params?: unknown[]) => Promise<{ rows: unknown[] }>;

const SCHEMA = [
  'CREATE TABLE bench_streams (stream_id text PRIMARY KEY, last_seq integer NOT NULL)',
  `CREATE TABLE bench_events (
     stream_id text NOT NULL,
     seq integer NOT NULL,
     payload jsonb NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (stream_id, seq)
   )`,
];

const BUMP_SEQ = `INSERT INTO bench_streams (stream_id, last_seq) VALUES ($1, 1)
  ON CONFLICT (stream_id) DO UPDATE SET last_seq = bench_streams.last_seq + 1
  RETURNING last_seq`;
const APPEND = 'INSERT INTO bench_events (stream_id, seq, payload) VALUES ($1, $2, $3::jsonb)';

/** A hung query fails the bench instead of stalling it. */
const QUERY_TIMEOUT_MS = 15_000;

/**
 * Each connection appends to a stream of its own: what the engine commits with
 * no lock contention between connections, its own ceiling for this shape.
 */
const streamOf = (worker: number) => `bench-stream-${worker}`;

async function appendTx(query: Query, streamId: string, body: string): Promise<void> {
  await query('BEGIN');
  try {
    const { rows } = await query(BUMP_SEQ, [streamId]);
    const { last_seq: seq } = rows[0] as { last_seq: number };
    await query(APPEND, [streamId, seq, JSON.stringify({ kind: 'message.created', body })]);
    await query('COMMIT');
  } catch (error) {
    await query('ROLLBACK').catch(() => {});
    throw error;
  }
}

async function createSchema(query: Query): Promise<void> {
  for (const statement of SCHEMA) await query(statement);
}

/** PGlite has one connection: transactions run one after another, in this process, on a fresh data dir. */
export async function pgliteAppendBaseline(bounds: LoopBounds, body: (n: number) => string): Promise<LoopResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tether-bench-pglite-'));
  try {
    const db = await PGlite.create(dataDir);
    try {
      const query: Query = (sql, params) => db.query(sql, params);
      await createSchema(query);
      return await runClosedLoop(1, bounds, (worker, n) => appendTx(query, streamOf(worker), body(n)));
    } finally {
      await db.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** PostgreSQL with `connections` clients, each looping on its own connection. */
export async function postgresAppendBaseline(
  url: string,
  connections: number,
  bounds: LoopBounds,
  body: (n: number) => string,
): Promise<LoopResult> {
  const clients = Array.from(
    { length: connections },
    () => new pg.Client({ connectionString: url, query_timeout: QUERY_TIMEOUT_MS }),
  );
  try {
    await Promise.all(clients.map((client) => client.connect()));
    const queries = clients.map(
      (client): Query =>
        (sql, params) =>
          client.query(sql, params),
    );
    const [first] = queries;
    if (!first) throw new Error('postgresAppendBaseline needs at least one connection');
    // Fresh tables per run, so the 1- and 10-connection runs start from the same empty state.
    await first('DROP TABLE IF EXISTS bench_events, bench_streams');
    await createSchema(first);
    return await runClosedLoop(connections, bounds, (worker, n) =>
      appendTx(queries[worker] ?? first, streamOf(worker), body(n)),
    );
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => {})));
  }
}
