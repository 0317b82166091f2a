/**
 * Failures of the database itself, as opposed to a statement's own error (a
 * unique violation, a failed check). Engines turn driver errors into these, so
 * callers above the store see three kinds and never driver text.
 */
export type StoreFailure =
  /** The database cannot be reached or dropped the connection: try again shortly. */
  | 'unavailable'
  /** A statement, connection or pool wait took longer than its limit. */
  | 'timeout'
  /** No space left for writes (or under the configured free-space floor). */
  | 'full';

const MESSAGES: Record<StoreFailure, string> = {
  unavailable: 'the database is unavailable; try again shortly',
  timeout: 'the database did not answer in time; try again shortly',
  full: 'the server is out of storage space: writes are refused until space is freed',
};

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly failure: StoreFailure,
    options: { cause?: unknown; message?: string } = {},
  ) {
    super(options.message ?? MESSAGES[failure], { cause: options.cause });
  }
}

/** Transient conflicts between transactions: the same work may simply run again. */
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

const SQLSTATE_FAILURES: Array<[prefix: string, failure: StoreFailure]> = [
  ['53100', 'full'], // disk_full
  ['57014', 'timeout'], // query_canceled (statement_timeout)
  ['25P03', 'timeout'], // idle_in_transaction_session_timeout
  ['08', 'unavailable'], // connection exceptions
  ['57P', 'unavailable'], // admin or crash shutdown, cannot connect now
  ['53', 'unavailable'], // insufficient resources (out of memory, too many connections)
  ['58', 'unavailable'], // system errors (I/O)
  ['XX', 'unavailable'], // internal errors, data corruption
];

const NODE_ERROR_FAILURES: Record<string, StoreFailure> = {
  ENOSPC: 'full',
  EDQUOT: 'full',
  ECONNRESET: 'unavailable',
  ECONNREFUSED: 'unavailable',
  EPIPE: 'unavailable',
  ETIMEDOUT: 'timeout',
  EHOSTUNREACH: 'unavailable',
  ENETUNREACH: 'unavailable',
  ENOTFOUND: 'unavailable',
  EAI_AGAIN: 'unavailable',
  EIO: 'unavailable',
};

/** node-postgres reports these without a code. */
const DRIVER_MESSAGE_FAILURES: Array<[pattern: RegExp, failure: StoreFailure]> = [
  [
    /timeout exceeded when trying to connect|Query read timeout|Connection terminated due to connection timeout/i,
    'timeout',
  ],
  [/Connection terminated|not queryable|Cannot use a pool after calling end|connection error/i, 'unavailable'],
];

function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

/** The SQLSTATE of a statement's error, the same from both engines. */
function sqlState(error: unknown): string | undefined {
  const code = codeOf(error);
  return code && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** PostgreSQL's SQLSTATE for a unique violation, the same from both engines. */
export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === '23505';
}

/** Deadlocks and serialization failures: retry the transaction. */
export function isRetryableConflict(error: unknown): boolean {
  return RETRYABLE_SQLSTATES.has(sqlState(error) ?? '');
}

/** What kind of database failure `error` is, or null when it is a statement's own error. */
export function storeFailureOf(error: unknown): StoreFailure | null {
  if (error instanceof StoreError) return error.failure;
  const state = sqlState(error);
  if (state) return SQLSTATE_FAILURES.find(([prefix]) => state.startsWith(prefix))?.[1] ?? null;
  const code = codeOf(error);
  if (code && code in NODE_ERROR_FAILURES) return NODE_ERROR_FAILURES[code] ?? null;
  const message = error instanceof Error ? error.message : '';
  return DRIVER_MESSAGE_FAILURES.find(([pattern]) => pattern.test(message))?.[1] ?? null;
}

/** `error` as a StoreError when it is a database failure; unchanged otherwise. */
export function asStoreError(error: unknown): unknown {
  if (error instanceof StoreError) return error;
  const failure = storeFailureOf(error);
  return failure ? new StoreError(failure, { cause: error }) : error;
}
