import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Migration, migrate } from '../store/migrate';
import { createPgliteStore } from '../store/pglite-store';
import { PLUMBING_MIGRATIONS } from '../store/plumbing-migrations';
import { createPostgresStore } from '../store/postgres-store';
import type { Store } from '../store/store';

export interface StoreEngine {
  name: 'pglite' | 'postgres';
  /** A fresh, empty store with the plumbing's and the given migrations; `close` also removes what it created. */
  open(): Promise<Store>;
}

/** Prints why a suite does not run, so a skip is never silent. */
export function announceSkip(suite: string, reason: string): void {
  console.warn(`[skipped] ${suite}: ${reason}`);
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

function pgliteEngine(migrations: readonly Migration[]): StoreEngine {
  return {
    name: 'pglite',
    async open() {
      const store = await createPgliteStore();
      await migrate(store, migrations);
      return store;
    },
  };
}

function postgresEngine(url: string, migrations: readonly Migration[]): StoreEngine {
  return {
    name: 'postgres',
    async open() {
      const isolated = await createIsolatedSchema(url);
      const store = await createPostgresStore({ url, schema: isolated.schema });
      await migrate(store, migrations);
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

/**
 * PGlite always; PostgreSQL when `databaseUrl` is set (CI sets DATABASE_URL), announced when it is not.
 * Each store gets the plumbing's migrations followed by `migrations`.
 */
export function storeEngines(
  suite: string,
  options: { databaseUrl: string | undefined; migrations?: readonly Migration[] },
): StoreEngine[] {
  const migrations = [...PLUMBING_MIGRATIONS, ...(options.migrations ?? [])];
  if (!options.databaseUrl) {
    announceSkip(`${suite} on PostgreSQL`, 'DATABASE_URL is not set');
    return [pgliteEngine(migrations)];
  }
  return [pgliteEngine(migrations), postgresEngine(options.databaseUrl, migrations)];
}
