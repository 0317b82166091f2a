/**
 * The generic Tether server runtime. Knows nothing of chat: an app brings its
 * router, its authentication and its migrations.
 */
export type { Bus } from './bus/bus';
export { createMemoryBus } from './bus/memory-bus';
export { DEFAULT_HEARTBEAT, DEFAULT_LIMITS, type Heartbeat, type Limits } from './limits';
export { createLogger, type Logger, type LogLevel } from './logger';
export { toPublicError, withPublicErrors } from './public-errors';
export { type ApplyBatch, createGroupCommit, type GroupCommit, type Outcome, type WriteTx } from './store/group-commit';
export { IdempotencyConflictError, sweepIdempotencyKeys } from './store/idempotency';
export { type Migration, migrate } from './store/migrate';
export { createPgliteStore, type PgliteStoreOptions } from './store/pglite-store';
export { PLUMBING_MIGRATIONS } from './store/plumbing-migrations';
export { createPostgresStore, type PostgresStoreOptions } from './store/postgres-store';
export type { Queryable, Store } from './store/store';
export { isUniqueViolation, StoreError } from './store/store-errors';
export { AsyncQueue } from './streams/async-queue';
export { appendEvents, lastSeq, readEvents, type SequencedEvent } from './streams/event-log';
export { resumableStream } from './streams/resumable-stream';
export { type Authenticate, type Credential, createHttpContext, unauthorized } from './transport/context';
export { createHttpHandler } from './transport/http-handler';
export { createWebSocketTransport } from './transport/websocket-server';
