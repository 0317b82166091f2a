import type { Heartbeat, Limits, LogLevel } from '@tether/server-core';
import type { PasswordHashingSettings } from './chat/passwords';
import type { SignInLimitSettings } from './chat/sign-in-limits';
import type { WriteLimitSettings } from './chat/write-limits';

export { DEFAULT_HEARTBEAT, DEFAULT_LIMITS } from '@tether/server-core';

/** Everything the server needs, typed. `env.ts` builds it from the environment; tests build it directly. */
export interface Config {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** PGlite's data and the generated token secret live here. */
  dataDir: string;
  /** When set, PostgreSQL instead of PGlite. */
  databaseUrl: string | undefined;
  /** PostgreSQL schema (tests isolate themselves in one). */
  databaseSchema: string | undefined;
  /** When set, fan-out, presence, and the sign-in and write limits go through Redis, shared by every process. */
  redisUrl: string | undefined;
  /** Browser origins allowed in (WebSocket, and HTTP requests with an `Origin`), besides the server's own. */
  allowedOrigins: string[];
  /**
   * The origins the server is reached at (`https://chat.example.com`). Unset
   * (none), a page is the server's own when its Origin equals the Host and
   * names an IP literal or `localhost`: a DNS name could be rebound.
   */
  publicOrigins?: string[];
  /** When set, `/metrics` answers `Authorization: Bearer <it>` from anywhere; unset, loopback peers only. */
  metricsToken?: string;
  /** HMAC secret for access tokens; generated into the data dir when absent. */
  tokenSecret: string | undefined;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  /** The built web app to serve at `/`, if it exists. */
  webRoot: string | undefined;
  /** Every limit of the session core, on every transport. */
  limits: Limits;
  /** Sign-in and sign-up attempts, across every process when Redis is set. */
  signIn: SignInLimitSettings;
  /** Writes and new rooms per user, across every process when Redis is set. */
  writes: WriteLimitSettings;
  /** How many password hashes run at once, and how many may wait, per process. */
  passwordHashing: PasswordHashingSettings;
  heartbeat: Heartbeat;
  /** Load balancers whose `X-Forwarded-For` names the client, for per-address limits. */
  trustedProxies: string[];
  /** Open sessions holding a service token verify it again this often. */
  serviceTokenRecheckMs: number;
  database: {
    /** PostgreSQL connections in the pool. */
    poolSize: number;
    /** A statement running longer than this is cancelled and its call fails with a retryable error. */
    statementTimeoutMs: number;
    /** Opening a database connection, or waiting for a free one, fails after this long. */
    connectTimeoutMs: number;
  };
  storage: {
    /** Embedded store: writes are refused while less than this is free on the data dir's disk (0: no floor). */
    minFreeBytes: number;
  };
  /** `/readyz` answers 503 when the store has not answered its probe within this. */
  readyTimeoutMs: number;
  /** How long in-flight work may finish after the reconnect notice, on shutdown. */
  shutdownDrainMs: number;
  /** With Redis: how often rooms' heads and presence are checked again, for what a lost doorbell did not say. */
  fanOutRecheckMs: number;
  logLevel: LogLevel;
  /** Exposed by `connection.health`. */
  version: string;
}

export const DEFAULT_DATABASE: Config['database'] = {
  poolSize: 10,
  statementTimeoutMs: 10_000,
  connectTimeoutMs: 5_000,
};

export const DEFAULT_SIGN_IN: SignInLimitSettings = {
  perAddressPerMinute: 30,
  failuresPerUsernameAndAddress: 10,
  failuresPerUsername: 100,
};

/** A person chats far slower; a bot that posts faster is configured for it. */
export const DEFAULT_WRITES: WriteLimitSettings = { writesPerMinute: 300, roomsPerHour: 30 };

/** Room for PGlite's checkpoints and a WAL segment (16 MiB) or two, with margin. */
export const DEFAULT_STORAGE: Config['storage'] = { minFreeBytes: 128 * 1024 * 1024 };
