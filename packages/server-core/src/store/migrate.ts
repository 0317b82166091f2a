import type { Store } from './store';

export interface Migration {
  /** Unique and stable forever: applied migrations are recorded by id. */
  id: string;
  sql: string;
}

/** Arbitrary constant for the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK_KEY = 7_461_726;

/**
 * Applies the migrations not yet recorded, in order, in one transaction.
 * Several server processes may start at once: the advisory lock makes them take turns.
 */
export async function migrate(store: Store, migrations: readonly Migration[]): Promise<string[]> {
  return store.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.exec(
      'CREATE TABLE IF NOT EXISTS tether_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const rows = await tx.query<{ id: string }>('SELECT id FROM tether_migrations');
    const applied = new Set(rows.map((row) => row.id));
    const pending = migrations.filter((migration) => !applied.has(migration.id));
    for (const migration of pending) {
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO tether_migrations (id) VALUES ($1)', [migration.id]);
    }
    return pending.map((migration) => migration.id);
  });
}
