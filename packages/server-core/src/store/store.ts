/** Anything that runs SQL: the store itself or a transaction. One dialect (PostgreSQL) for every engine. */
export interface Queryable {
  /** One statement with `$1`-style parameters. */
  query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/**
 * A SQL database behind a small interface, so PGlite and PostgreSQL are
 * interchangeable. Failures of the database itself (lost connection, timeout,
 * full disk) reject with a `StoreError`; a statement's own errors keep their SQLSTATE.
 */
export interface Store extends Queryable {
  readonly engine: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Rejects with StoreError('full') while the engine's disk is under its free-space floor. */
  assertWritable(): Promise<void>;
  close(): Promise<void>;
}
