/**
 * The generic Tether server runtime. Knows nothing of chat: an app brings its
 * router, its authentication and its migrations.
 */
export type { Bus } from './bus/bus';
export { createMemoryBus } from './bus/memory-bus';
export { createRedisBus, type RedisBusOptions } from './bus/redis-bus';
export { createHttpHandler, type HttpHandlerOptions } from './http/http-handler';
export { limitOpenSockets, type OpenSocketLimits } from './http/open-sockets';
export { parseOrigin } from './http/origin';
export { DEFAULT_HEARTBEAT, DEFAULT_LIMITS, type Heartbeat, type Limits } from './limits';
export { createLogger, errorMessage, flushLogger, type Logger, type LogLevel } from './logger';
export { createMetrics, type Metrics, noopMetrics, type TransportMetrics } from './observability/metrics';
export { toPublicError, withPublicErrors } from './public-errors';
export { type RedisClient, redisClient } from './redis/redis-client';
export { createMemoryRoster } from './roster/memory-roster';
export { createRedisRoster, type RedisRosterOptions } from './roster/redis-roster';
export type { Roster } from './roster/roster';
export { type Authenticate, type Credential, unauthorized } from './session/credential';
export { createRevocationLog, type RevocationLog, type RevocationLogOptions } from './session/revocation-log';
export { busRevocations, type Revocation, type Revocations } from './session/revocations';
export { BucketsByKey } from './session/token-bucket';
export { createSessionCore, type SessionCore, type SessionCoreOptions } from './session-core';
export { type ApplyBatch, createGroupCommit, type GroupCommit, type Outcome, type WriteTx } from './store/group-commit';
export { IdempotencyConflictError, sweepIdempotencyKeys } from './store/idempotency';
export { type Migration, migrate } from './store/migrate';
export { createPgliteStore, type PgliteStoreOptions } from './store/pglite-store';
export { PLUMBING_MIGRATIONS } from './store/plumbing-migrations';
export { createPostgresStore, type PostgresStoreOptions } from './store/postgres-store';
export type { Queryable, Store } from './store/store';
export { isUniqueViolation, StoreError } from './store/store-errors';
export { coalescedRead } from './streams/coalesced-read';
export { appendEvents, lastSeq, lastSeqs, readEvents, type SequencedEvent } from './streams/event-log';
export { pushable } from './streams/pushable';
export { pushedToIterator } from './streams/pushed-iterator';
export { type ResumableLog, resumableStream } from './streams/resumable-stream';
