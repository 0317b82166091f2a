import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTetherClient, type TetherClient, type TetherClientOptions } from '@tether/client/node';
import { type AppRouter, type AuthSession, PROTOCOL_VERSION } from '@tether/protocol';
import { createLogger } from '@tether/server-core';
import { createTRPCClient, httpLink } from '@trpc/client';
import superjson from 'superjson';
import { startServer, type TetherServer } from '../../src/app';
import { type Config, DEFAULT_DATABASE, DEFAULT_HEARTBEAT, DEFAULT_LIMITS } from '../../src/config';

export interface TestServer extends TetherServer {
  wsUrl: string;
  config: Config;
  /** Stops the server and deletes its data dir. */
  dispose(): Promise<void>;
}

export type ConfigOverrides = Partial<Omit<Config, 'limits' | 'heartbeat'>> & {
  limits?: Partial<Config['limits']>;
  heartbeat?: Partial<Config['heartbeat']>;
};

/** A real server on an ephemeral loopback port, with PGlite in a temporary data dir. */
export async function startTestServer(overrides: ConfigOverrides = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? (await mkdtemp(join(tmpdir(), 'tether-test-')));
  const config: Config = {
    host: '127.0.0.1',
    port: 0,
    dataDir,
    databaseUrl: undefined,
    databaseSchema: undefined,
    redisUrl: undefined,
    allowedOrigins: [],
    trustedProxies: [],
    // Tests sign many people up from one address; the sign-in limits have tests of their own.
    signIn: { perAddressPerMinute: 100_000, failuresPerUsernameAndAddress: 10, failuresPerUsername: 100 },
    // Tests sign people up many at once; the queue's own limit is tested with a server of its own.
    passwordHashing: { atOnce: 1, waiting: 100_000 },
    // Tests write fast from few accounts; the per-user write limits are tested with servers of their own.
    writes: { writesPerMinute: 10_000_000, roomsPerHour: 100_000 },
    serviceTokenRecheckMs: 60_000,
    tokenSecret: randomBytes(32).toString('base64url'),
    accessTokenTtlSeconds: 900,
    refreshTokenTtlDays: 30,
    webRoot: undefined,
    shutdownDrainMs: 0,
    fanOutRecheckMs: 3_000,
    database: DEFAULT_DATABASE,
    // Tests run on whatever disk the machine has; the floor has tests of its own.
    storage: { minFreeBytes: 0 },
    readyTimeoutMs: 1_000,
    logLevel: 'silent',
    version: 'test',
    ...overrides,
    limits: { ...DEFAULT_LIMITS, ...overrides.limits },
    heartbeat: { ...DEFAULT_HEARTBEAT, ...overrides.heartbeat },
  };
  const server = await startServer(config, createLogger(config.logLevel));
  return {
    ...server,
    config,
    wsUrl: `${server.url.replace('http', 'ws')}/trpc`,
    async dispose() {
      await server.close();
      if (!overrides.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Test clients reconnect fast and are disposed by `disposeAll`. */
export function clientFactory(wsUrl: () => string) {
  const clients: TetherClient[] = [];
  return {
    connect(options: Partial<TetherClientOptions> = {}): TetherClient {
      const client = createTetherClient({
        clientName: 'tether-tests',
        reconnect: { baseMs: 20, maxMs: 200 },
        ...options,
        // The default endpoint only when none is given.
        url: options.url ?? wsUrl(),
      });
      clients.push(client);
      return client;
    },
    /** A client of the server at `url` (one of several processes), signed in as `session` when given. */
    on(url: string, session?: AuthSession): TetherClient {
      return this.connect({ url, ...(session ? { getToken: () => session.accessToken } : {}) });
    },
    async disposeAll() {
      await Promise.all(clients.splice(0).map((client) => client.dispose()));
    },
  };
}

/** Signs up a user with a unique name on an anonymous connection; returns the session and a signed-in client. */
export async function signUpUser(
  factory: ReturnType<typeof clientFactory>,
  prefix: string,
): Promise<{ session: AuthSession; client: TetherClient }> {
  const anonymous = factory.connect();
  const session = await anonymous.trpc.auth.signUp.mutate({
    username: `${prefix}-${randomBytes(3).toString('hex')}`,
    password: 'correct horse battery staple',
  });
  await anonymous.dispose();
  const client = factory.connect({ getToken: () => session.accessToken });
  return { session, client };
}

export const CURRENT_PROTOCOL_VERSION = String(PROTOCOL_VERSION);

/**
 * The stock tRPC HTTP client against `baseUrl`, with a bearer token when given;
 * `from`: the address a trusting server counts it under (`X-Forwarded-For`).
 */
export function httpClient(baseUrl: string, token?: string, from?: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${baseUrl}/trpc`,
        transformer: superjson,
        headers: () => ({
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(from ? { 'x-forwarded-for': from } : {}),
        }),
      }),
    ],
  });
}
