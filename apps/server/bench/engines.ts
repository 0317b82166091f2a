import { createScratchDatabase } from '../test/helpers/scratch-database';
import { pgliteAppendBaseline, postgresAppendBaseline } from './append-baseline';
import type { LoopBounds, LoopResult } from './closed-loop';

export interface Baseline {
  /** Database connections running the transaction concurrently. */
  connections: number;
  result: LoopResult;
}

/** A storage engine the server can run on, and the bare-transaction baseline measured on it. */
export interface Engine {
  name: 'pglite' | 'postgres';
  /** Added to the server's environment. */
  serverEnv: Record<string, string>;
  /** The baselines, measured now; the first is what the send figures are compared against. */
  measureBaselines(bounds: LoopBounds, body: (n: number) => string): Promise<Baseline[]>;
  dispose(): Promise<void>;
}

/** The server's default: PGlite in its data dir (spawnServer gives it a fresh temporary one). */
export function pgliteEngine(): Engine {
  return {
    name: 'pglite',
    serverEnv: {},
    async measureBaselines(bounds, body) {
      return [{ connections: 1, result: await pgliteAppendBaseline(bounds, body) }];
    },
    async dispose() {},
  };
}

/**
 * The server's PostgreSQL pool size, pinned (it is also the default) so the
 * baseline always runs on as many connections as the server has.
 */
const SERVER_POOL_SIZE = 10;

/**
 * PostgreSQL in a fresh database beside `adminUrl`'s; server and baseline share
 * it (the bench's tables do not collide with the server's).
 */
export async function postgresEngine(adminUrl: string): Promise<Engine> {
  const database = await createScratchDatabase(adminUrl, 'tether_bench');
  return {
    name: 'postgres',
    // Servers without TETHER_DB_POOL_SIZE ignore it and use a pool of 10 too.
    serverEnv: { DATABASE_URL: database.url, TETHER_DB_POOL_SIZE: String(SERVER_POOL_SIZE) },
    async measureBaselines(bounds, body) {
      const pooled = await postgresAppendBaseline(database.url, SERVER_POOL_SIZE, bounds, body);
      const single = await postgresAppendBaseline(database.url, 1, bounds, body);
      return [
        { connections: SERVER_POOL_SIZE, result: pooled },
        { connections: 1, result: single },
      ];
    },
    dispose: () => database.drop(),
  };
}
