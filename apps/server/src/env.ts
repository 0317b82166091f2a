import { resolve } from 'node:path';
import { z } from 'zod';
import packageJson from '../package.json' with { type: 'json' };
import { type Config, DEFAULT_DATABASE, DEFAULT_HEARTBEAT, DEFAULT_LIMITS, DEFAULT_STORAGE } from './config';

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

/** The environment variables the server reads; the README's table mirrors this. */
const envSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: int(3000),
  TETHER_DATA_DIR: z.string().default('.tether-data'),
  DATABASE_URL: z.url().optional(),
  REDIS_URL: z.url().optional(),
  ALLOWED_ORIGINS: list,
  TETHER_TOKEN_SECRET: z.string().min(32, 'TETHER_TOKEN_SECRET must be at least 32 characters').optional(),
  TETHER_ACCESS_TOKEN_TTL_SECONDS: int(900),
  TETHER_REFRESH_TOKEN_TTL_DAYS: int(30),
  TETHER_WEB_ROOT: z.string().optional(),
  TETHER_MAX_PAYLOAD_BYTES: int(DEFAULT_LIMITS.maxPayloadBytes),
  TETHER_MAX_CONNECTIONS: int(DEFAULT_LIMITS.maxConnections),
  TETHER_HANDSHAKE_TIMEOUT_MS: int(DEFAULT_LIMITS.handshakeTimeoutMs),
  TETHER_MAX_SUBSCRIPTIONS: int(DEFAULT_LIMITS.maxSubscriptionsPerConnection),
  TETHER_RATE_PER_SECOND: int(DEFAULT_LIMITS.messagesPerSecond),
  TETHER_RATE_BURST: int(DEFAULT_LIMITS.messageBurst),
  TETHER_SEND_BUFFER_BYTES: int(DEFAULT_LIMITS.sendBufferBytes),
  TETHER_PING_AFTER_MS: int(DEFAULT_HEARTBEAT.pingAfterMs),
  TETHER_TERMINATE_AFTER_MS: int(DEFAULT_HEARTBEAT.terminateAfterMs),
  TETHER_SHUTDOWN_DRAIN_MS: int(1_000),
  TETHER_DB_POOL_SIZE: int(DEFAULT_DATABASE.poolSize),
  TETHER_DB_STATEMENT_TIMEOUT_MS: int(DEFAULT_DATABASE.statementTimeoutMs),
  TETHER_DB_CONNECT_TIMEOUT_MS: int(DEFAULT_DATABASE.connectTimeoutMs),
  TETHER_MIN_FREE_DISK_MB: int(DEFAULT_STORAGE.minFreeBytes / (1024 * 1024)),
  TETHER_READY_TIMEOUT_MS: int(1_000),
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
  return {
    host: e.HOST,
    port: e.PORT,
    dataDir: resolve(e.TETHER_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    databaseSchema: undefined,
    redisUrl: e.REDIS_URL,
    allowedOrigins: e.ALLOWED_ORIGINS,
    tokenSecret: e.TETHER_TOKEN_SECRET,
    accessTokenTtlSeconds: e.TETHER_ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: e.TETHER_REFRESH_TOKEN_TTL_DAYS,
    webRoot: e.TETHER_WEB_ROOT ?? defaults.webRoot,
    limits: {
      maxPayloadBytes: e.TETHER_MAX_PAYLOAD_BYTES,
      maxConnections: e.TETHER_MAX_CONNECTIONS,
      handshakeTimeoutMs: e.TETHER_HANDSHAKE_TIMEOUT_MS,
      maxSubscriptionsPerConnection: e.TETHER_MAX_SUBSCRIPTIONS,
      messagesPerSecond: e.TETHER_RATE_PER_SECOND,
      messageBurst: e.TETHER_RATE_BURST,
      sendBufferBytes: e.TETHER_SEND_BUFFER_BYTES,
    },
    heartbeat: { pingAfterMs: e.TETHER_PING_AFTER_MS, terminateAfterMs: e.TETHER_TERMINATE_AFTER_MS },
    database: {
      poolSize: e.TETHER_DB_POOL_SIZE,
      statementTimeoutMs: e.TETHER_DB_STATEMENT_TIMEOUT_MS,
      connectTimeoutMs: e.TETHER_DB_CONNECT_TIMEOUT_MS,
    },
    storage: { minFreeBytes: e.TETHER_MIN_FREE_DISK_MB * 1024 * 1024 },
    readyTimeoutMs: e.TETHER_READY_TIMEOUT_MS,
    shutdownDrainMs: e.TETHER_SHUTDOWN_DRAIN_MS,
    logLevel: e.LOG_LEVEL,
    version: packageJson.version,
  };
}
