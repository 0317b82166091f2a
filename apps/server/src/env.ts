import { resolve } from 'node:path';
import { type Limits, parseOrigin } from '@tether/server-core';
import { z } from 'zod';
import packageJson from '../package.json' with { type: 'json' };
import { DEFAULT_SERVICE_TOKEN_RECHECK_MS } from './chat/authenticate';
import { DEFAULT_PASSWORD_HASHING } from './chat/passwords';
import {
  type Config,
  DEFAULT_DATABASE,
  DEFAULT_HEARTBEAT,
  DEFAULT_LIMITS,
  DEFAULT_SIGN_IN,
  DEFAULT_STORAGE,
  DEFAULT_WRITES,
} from './config';

const int = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);
const list = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

const origins = list.transform((values, ctx) =>
  values.map((value) => {
    const origin = parseOrigin(value);
    if (origin === null) {
      ctx.addIssue({
        code: 'custom',
        message: `"${value}" is not an origin (scheme://host[:port], as https://chat.example.com)`,
      });
    }
    return origin ?? value;
  }),
);

/** Each limit of the session core and the variable that sets it (docs/ARCHITECTURE.md lists them). */
export const LIMIT_VARIABLES = {
  TETHER_MAX_PAYLOAD_BYTES: 'maxPayloadBytes',
  TETHER_MAX_CONNECTIONS: 'maxConnections',
  TETHER_MAX_CONNECTIONS_PER_ADDRESS: 'maxConnectionsPerAddress',
  TETHER_MAX_SOCKETS_PER_ADDRESS: 'maxSocketsPerAddress',
  TETHER_MAX_CONNECTIONS_PER_PRINCIPAL: 'maxConnectionsPerPrincipal',
  TETHER_HANDSHAKE_TIMEOUT_MS: 'handshakeTimeoutMs',
  TETHER_MAX_SUBSCRIPTIONS: 'maxSubscriptionsPerConnection',
  TETHER_MAX_SUBSCRIPTIONS_PER_PRINCIPAL: 'maxSubscriptionsPerPrincipal',
  TETHER_RATE_PER_SECOND: 'messagesPerSecond',
  TETHER_RATE_BURST: 'messageBurst',
  TETHER_MAX_CALLS_PER_FRAME: 'maxCallsPerFrame',
  TETHER_HTTP_RATE_PER_SECOND: 'httpCallsPerSecond',
  TETHER_HTTP_RATE_BURST: 'httpCallBurst',
  TETHER_SEND_BUFFER_BYTES: 'sendBufferBytes',
  TETHER_EPHEMERAL_BUFFER_BYTES: 'ephemeralBufferBytes',
  TETHER_REPLAY_BYTES_PER_SECOND: 'replayBytesPerSecond',
  TETHER_REPLAY_BYTE_BURST: 'replayByteBurst',
} as const satisfies Record<string, keyof Limits>;

const limitVariables = Object.fromEntries(
  Object.entries(LIMIT_VARIABLES).map(([variable, limit]) => [variable, int(DEFAULT_LIMITS[limit])]),
) as { [V in keyof typeof LIMIT_VARIABLES]: ReturnType<typeof int> };

/** The environment variables the server reads; the README's table mirrors this. */
const envSchema = z.object({
  ...limitVariables,
  TETHER_TRUSTED_PROXIES: list,
  TETHER_SIGN_INS_PER_MINUTE: int(DEFAULT_SIGN_IN.perAddressPerMinute),
  TETHER_SIGN_IN_FAILURES_PER_USERNAME_AND_ADDRESS: int(DEFAULT_SIGN_IN.failuresPerUsernameAndAddress),
  TETHER_SIGN_IN_FAILURES_PER_USERNAME: int(DEFAULT_SIGN_IN.failuresPerUsername),
  TETHER_WRITES_PER_MINUTE: int(DEFAULT_WRITES.writesPerMinute),
  TETHER_ROOMS_PER_HOUR: int(DEFAULT_WRITES.roomsPerHour),
  TETHER_PASSWORD_HASHES_AT_ONCE: int(DEFAULT_PASSWORD_HASHING.atOnce),
  TETHER_PASSWORD_HASHES_WAITING: int(DEFAULT_PASSWORD_HASHING.waiting),
  TETHER_SERVICE_TOKEN_RECHECK_SECONDS: int(DEFAULT_SERVICE_TOKEN_RECHECK_MS / 1000),
  HOST: z.string().default('127.0.0.1'),
  PORT: int(3000),
  TETHER_DATA_DIR: z.string().default('.tether-data'),
  DATABASE_URL: z.url().optional(),
  REDIS_URL: z.url().optional(),
  ALLOWED_ORIGINS: list,
  TETHER_PUBLIC_ORIGIN: origins,
  TETHER_METRICS_TOKEN: z.string().min(16, 'TETHER_METRICS_TOKEN must be at least 16 characters').optional(),
  TETHER_TOKEN_SECRET: z.string().min(32, 'TETHER_TOKEN_SECRET must be at least 32 characters').optional(),
  TETHER_ACCESS_TOKEN_TTL_SECONDS: int(900),
  TETHER_REFRESH_TOKEN_TTL_DAYS: int(30),
  TETHER_WEB_ROOT: z.string().optional(),
  TETHER_PING_AFTER_MS: int(DEFAULT_HEARTBEAT.pingAfterMs),
  TETHER_TERMINATE_AFTER_MS: int(DEFAULT_HEARTBEAT.terminateAfterMs),
  TETHER_SHUTDOWN_DRAIN_MS: int(1_000),
  TETHER_DB_POOL_SIZE: int(DEFAULT_DATABASE.poolSize),
  TETHER_DB_STATEMENT_TIMEOUT_MS: int(DEFAULT_DATABASE.statementTimeoutMs),
  TETHER_DB_CONNECT_TIMEOUT_MS: int(DEFAULT_DATABASE.connectTimeoutMs),
  TETHER_MIN_FREE_DISK_MB: int(DEFAULT_STORAGE.minFreeBytes / (1024 * 1024)),
  TETHER_READY_TIMEOUT_MS: int(1_000),
  TETHER_FANOUT_RECHECK_MS: int(3_000),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
});

/** Reads the configuration; throws a readable error naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, defaults: { webRoot?: string } = {}): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`).join('\n');
    throw new Error(`invalid environment:\n${problems}`);
  }
  const e = parsed.data;
  if (e.REDIS_URL && (!e.DATABASE_URL || !e.TETHER_TOKEN_SECRET)) {
    // Several processes share one PostgreSQL (the embedded database belongs to one process) and one token secret
    // (a secret generated in each data directory would make every other process's tokens invalid).
    throw new Error(
      'invalid environment:\n  REDIS_URL: needs DATABASE_URL and TETHER_TOKEN_SECRET, shared by every process behind Redis',
    );
  }
  return {
    host: e.HOST,
    port: e.PORT,
    dataDir: resolve(e.TETHER_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    databaseSchema: undefined,
    redisUrl: e.REDIS_URL,
    allowedOrigins: e.ALLOWED_ORIGINS,
    publicOrigins: e.TETHER_PUBLIC_ORIGIN,
    metricsToken: e.TETHER_METRICS_TOKEN,
    tokenSecret: e.TETHER_TOKEN_SECRET,
    accessTokenTtlSeconds: e.TETHER_ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: e.TETHER_REFRESH_TOKEN_TTL_DAYS,
    webRoot: e.TETHER_WEB_ROOT ?? defaults.webRoot,
    limits: Object.fromEntries(
      Object.entries(LIMIT_VARIABLES).map(([variable, limit]) => [limit, e[variable as keyof typeof LIMIT_VARIABLES]]),
    ) as unknown as Limits,
    trustedProxies: e.TETHER_TRUSTED_PROXIES,
    writes: { writesPerMinute: e.TETHER_WRITES_PER_MINUTE, roomsPerHour: e.TETHER_ROOMS_PER_HOUR },
    signIn: {
      perAddressPerMinute: e.TETHER_SIGN_INS_PER_MINUTE,
      failuresPerUsernameAndAddress: e.TETHER_SIGN_IN_FAILURES_PER_USERNAME_AND_ADDRESS,
      failuresPerUsername: e.TETHER_SIGN_IN_FAILURES_PER_USERNAME,
    },
    passwordHashing: { atOnce: e.TETHER_PASSWORD_HASHES_AT_ONCE, waiting: e.TETHER_PASSWORD_HASHES_WAITING },
    serviceTokenRecheckMs: e.TETHER_SERVICE_TOKEN_RECHECK_SECONDS * 1000,
    heartbeat: { pingAfterMs: e.TETHER_PING_AFTER_MS, terminateAfterMs: e.TETHER_TERMINATE_AFTER_MS },
    database: {
      poolSize: e.TETHER_DB_POOL_SIZE,
      statementTimeoutMs: e.TETHER_DB_STATEMENT_TIMEOUT_MS,
      connectTimeoutMs: e.TETHER_DB_CONNECT_TIMEOUT_MS,
    },
    storage: { minFreeBytes: e.TETHER_MIN_FREE_DISK_MB * 1024 * 1024 },
    readyTimeoutMs: e.TETHER_READY_TIMEOUT_MS,
    shutdownDrainMs: e.TETHER_SHUTDOWN_DRAIN_MS,
    fanOutRecheckMs: e.TETHER_FANOUT_RECHECK_MS,
    logLevel: e.LOG_LEVEL,
    version: packageJson.version,
  };
}
