import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { CHAT_MIGRATIONS } from '../../src/chat/migrations';
import { migrate } from '../../src/store/migrate';
import { createPgliteStore } from '../../src/store/pglite-store';
import { PLUMBING_MIGRATIONS } from '../../src/store/plumbing-migrations';
import { createPostgresStore } from '../../src/store/postgres-store';
import type { Store } from '../../src/store/store';
import { announceSkip, testEnv } from './test-env';

export interface StoreEngine {
  name: 'pglite' | 'postgres';
  /** A fresh, empty, migrated store; `close` also removes what it created. */
  open(): Promise<Store>;
}

/** A PostgreSQL schema of its own for each store, dropped on close. */
export async function createIsolatedSchema(url: string): Promise<{ schema: string; drop(): Promise<void> }> {
  const schema = `tether_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  return {
    schema,
    async drop() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    },
  };
}

const pgliteEngine: StoreEngine = {
  name: 'pglite',
  async open() {
    const store = await createPgliteStore();
    await migrate(store, [...PLUMBING_MIGRATIONS, ...CHAT_MIGRATIONS]);
    return store;
  },
};

function postgresEngine(url: string): StoreEngine {
  return {
    name: 'postgres',
    async open() {
      const isolated = await createIsolatedSchema(url);
      const store = await createPostgresStore({ url, schema: isolated.schema });
      await migrate(store, [...PLUMBING_MIGRATIONS, ...CHAT_MIGRATIONS]);
      return {
        ...store,
        async close() {
          await store.close();
          await isolated.drop();
        },
      };
    },
  };
}

/** PGlite always; PostgreSQL when DATABASE_URL is set (CI sets it), announced when it is not. */
export function storeEngines(suite: string): StoreEngine[] {
  if (!testEnv.databaseUrl) {
    announceSkip(`${suite} on PostgreSQL`, 'DATABASE_URL is not set');
    return [pgliteEngine];
  }
  return [pgliteEngine, postgresEngine(testEnv.databaseUrl)];
}
