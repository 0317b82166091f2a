import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createAppRouter } from '@tether/protocol';
import {
  createGroupCommit,
  createHttpHandler,
  createLogger,
  createMetrics,
  createPgliteStore,
  createPostgresStore,
  createRevocationLog,
  createSessionCore,
  errorMessage,
  type Logger,
  limitOpenSockets,
  migrate,
  PLUMBING_MIGRATIONS,
  type Store,
  sweepIdempotencyKeys,
  withPublicErrors,
} from '@tether/server-core';
import { createAccessTokens } from './chat/access-tokens';
import { sweepExpiredRefreshTokens } from './chat/auth-service';
import { createAuthenticator } from './chat/authenticate';
import { createChatServices } from './chat/chat-services';
import { CHAT_MIGRATIONS } from './chat/migrations';
import { createPasswordHasher } from './chat/passwords';
import { createSignInLimits } from './chat/sign-in-limits';
import { createWriteLimits } from './chat/write-limits';
import type { Config } from './config';
import { openFanOut } from './fan-out';
import { fdBudgetShortfall, openFileLimit } from './fd-budget';
import { loadTokenSecret } from './token-secret';

export interface TetherServer {
  /** `http://host:port`; the WebSocket endpoint is `ws://host:port/trpc`. */
  readonly url: string;
  readonly port: number;
  readonly store: Store;
  /** Graceful: reconnect notice, drain, close 1012, then close the store. Idempotent. */
  close(): Promise<void>;
}

/** Idempotency keys are kept twice as long as docs/ARCHITECTURE.md promises (24 h). */
const IDEMPOTENCY_RETENTION_HOURS = 48;
/** A day of revocations: a process that fell that far behind the log (the store away for a day) misses older ones. */
const REVOCATION_RETENTION_HOURS = 24;
const SWEEP_INTERVAL_MS = 60 * 60 * 1000;
/** Node's defaults (60 s for headers, 300 s for a request) let a slow client hold a socket for minutes. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

function openStore(config: Config): Promise<Store> {
  return config.databaseUrl
    ? createPostgresStore({
        url: config.databaseUrl,
        schema: config.databaseSchema,
        maxConnections: config.database.poolSize,
        statementTimeoutMs: config.database.statementTimeoutMs,
        connectTimeoutMs: config.database.connectTimeoutMs,
      })
    : createPgliteStore({
        dataDir: join(config.dataDir, 'pglite'),
        minFreeBytes: config.storage.minFreeBytes,
        statementTimeoutMs: config.database.statementTimeoutMs,
      });
}

/** Resolves true when the store answers a trivial query within `timeoutMs`. */
function storeAnswers(store: Store, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    store
      .query('SELECT 1')
      .then(
        () => resolve(true),
        () => resolve(false),
      )
      .finally(() => clearTimeout(timer));
  });
}

/** Composes config -> store -> bus -> chat services -> router -> session core -> HTTP + WebSocket, and listens. */
export async function startServer(
  config: Config,
  logger: Logger = createLogger(config.logLevel),
): Promise<TetherServer> {
  const shortfall = fdBudgetShortfall(config.limits, openFileLimit());
  if (shortfall) {
    // Not fatal: a small deployment never meets its connection limit. Past the open-file limit, new
    // connections and store files fail (EMFILE) for everyone: raise it, or lower the connection limit.
    logger.warn('fd_budget.short', {
      ...shortfall,
      advice: `raise the open-file limit (ulimit -n ${shortfall.needed}) or lower TETHER_MAX_CONNECTIONS`,
    });
  }
  const store = await openStore(config);
  const applied = await migrate(store, [...PLUMBING_MIGRATIONS, ...CHAT_MIGRATIONS]);
  if (applied.length > 0) logger.info('store.migrated', { engine: store.engine, applied });
  const fanOut = await openFanOut(config.redisUrl, config.fanOutRecheckMs, logger);
  const { bus } = fanOut;
  const accessTokens = createAccessTokens({
    secret: await loadTokenSecret(config.tokenSecret, config.dataDir),
    ttlSeconds: config.accessTokenTtlSeconds,
  });

  let stopping = false;
  const writes = createGroupCommit(store);
  const revocations = createRevocationLog({
    store,
    writes,
    bus,
    recheckMs: fanOut.recheckMs,
    onError: (error: unknown) => logger.warn('revocations.check_failed', { message: errorMessage(error) }),
  });
  await revocations.start();
  const metrics = createMetrics();
  const passwords = createPasswordHasher(config.passwordHashing, () => metrics.limitExceeded('password_hashing'));
  const chat = createChatServices({
    store,
    writes,
    bus,
    roster: fanOut.roster,
    recheckMs: fanOut.recheckMs,
    onFanOutError: (error: unknown) => logger.warn('presence.failed', { message: errorMessage(error) }),
    accessTokens,
    refreshTokenTtlDays: config.refreshTokenTtlDays,
    revocations,
    signInLimits: createSignInLimits(config.signIn, {
      redis: fanOut.counters ?? undefined,
      onRefused: (limit) => metrics.limitExceeded(limit),
    }),
    writeLimits: createWriteLimits(config.writes, {
      redis: fanOut.counters ?? undefined,
      onRefused: (limit) => metrics.limitExceeded(limit),
    }),
    passwords,
  });
  const authenticate = createAuthenticator({
    accessTokens,
    store,
    serviceTokenRecheckMs: config.serviceTokenRecheckMs,
  });
  const core = createSessionCore({
    router: createAppRouter(withPublicErrors(chat)),
    authenticate,
    revocations,
    // Only where there are other processes to count with: alone, nothing to ask.
    roster: fanOut.shared ? fanOut.roster : undefined,
    version: config.version,
    logger,
    metrics,
    limits: config.limits,
    heartbeat: config.heartbeat,
    allowedOrigins: config.allowedOrigins,
    publicOrigins: config.publicOrigins,
    trustedProxies: config.trustedProxies,
    // A sign-in or sign-up while the password queue is full is refused before its request is even parsed.
    refuseForNow: (path) => (path === 'auth.signIn' || path === 'auth.signUp' ? passwords.busy() : null),
    onRefusedForNow: () => metrics.limitExceeded('password_hashing'),
  });
  core.onRevoked(authenticate.forget);
  const http = createServer(
    // Tight: a slow or idle client holds a socket no longer than it must.
    { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS },
    createHttpHandler({
      trpc: core.handleTrpc,
      metrics,
      metricsToken: config.metricsToken,
      publicOrigins: config.publicOrigins,
      webRoot: config.webRoot,
      isReady: async () => !stopping && (await storeAnswers(store, config.readyTimeoutMs)),
    }),
  );
  limitOpenSockets(http, {
    perAddress: config.limits.maxSocketsPerAddress,
    exempt: config.trustedProxies,
    onRefused: () => metrics.limitExceeded('sockets_per_address'),
  });
  http.on('upgrade', core.handleUpgrade);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info('server.listening', { url, engine: store.engine, version: config.version });

  const sweep = setInterval(() => {
    Promise.all([
      sweepIdempotencyKeys(store, IDEMPOTENCY_RETENTION_HOURS),
      sweepExpiredRefreshTokens(store),
      revocations.prune(REVOCATION_RETENTION_HOURS),
    ]).catch((error: unknown) => logger.warn('store.sweep_failed', { message: errorMessage(error) }));
  }, SWEEP_INTERVAL_MS).unref();

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    store,
    close() {
      closing ??= (async () => {
        stopping = true;
        clearInterval(sweep);
        logger.info('server.stopping', { connections: core.health().connections });
        await core.shutdown(config.shutdownDrainMs);
        revocations.close();
        http.closeAllConnections();
        await new Promise((resolve) => http.close(resolve));
        await fanOut.close();
        await passwords.close();
        await store.close();
        logger.info('server.stopped');
      })();
      return closing;
    },
  };
}
