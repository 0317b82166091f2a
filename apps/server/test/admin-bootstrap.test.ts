import { randomBytes } from 'node:crypto';
import type { TetherClient } from '@tether/client';
import type { AppRouter, AuthSession } from '@tether/protocol';
import { createIsolatedSchema } from '@tether/server-core/testing';
import type { TRPCClientError } from '@trpc/client';
import { afterEach, describe, expect, it } from 'vitest';
import { announceSkip, testEnv } from './helpers/test-env';
import { clientFactory, startTestServer, type TestServer } from './helpers/test-server';

const SIGN_UPS = 20;
const PASSWORD = 'correct horse battery staple';

/** Everything a test started, undone after it whatever happened. */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serverWith(overrides: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const server = await startTestServer(overrides);
  cleanups.push(() => server.dispose());
  return server;
}

function clientsOf(server: TestServer) {
  const factory = clientFactory(() => server.wsUrl);
  cleanups.push(() => factory.disposeAll());
  return factory;
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (error: TRPCClientError<AppRouter>) => error.data?.code ?? String(error),
  );

/**
 * Sends SIGN_UPS first sign-ups at once, each on an anonymous connection of
 * its own, spread round-robin over `servers`; resolves with every session.
 */
async function concurrentSignUps(servers: TestServer[]): Promise<Array<{ session: AuthSession; server: TestServer }>> {
  const factories = servers.map(clientsOf);
  const anonymous = Array.from({ length: SIGN_UPS }, (_, i) => {
    const server = i % servers.length;
    return { server: servers[server] as TestServer, client: factories[server]?.connect() as TetherClient };
  });
  // Every connection is open before the first sign-up leaves, so the calls arrive together.
  await Promise.all(anonymous.map(({ client }) => client.status.waitFor('connected')));
  const prefix = `first-${randomBytes(3).toString('hex')}`;
  return Promise.all(
    anonymous.map(async ({ server, client }, i) => ({
      server,
      session: await client.trpc.auth.signUp.mutate({ username: `${prefix}-${i}`, password: PASSWORD }),
    })),
  );
}

async function adminsInStore(server: TestServer): Promise<string[]> {
  const rows = await server.store.query<{ username: string }>(
    'SELECT username FROM users WHERE is_admin ORDER BY username',
  );
  return rows.map((row) => row.username);
}

/** Which signed-up users the server treats as admin: only an admin may list service tokens. */
async function usersAllowedToListTokens(signUps: Array<{ session: AuthSession; server: TestServer }>) {
  const outcomes = await Promise.all(
    signUps.map(async ({ session, server }) => {
      const client = clientsOf(server).connect({ getToken: () => session.accessToken });
      return { username: session.user.username, code: await codeOf(client.trpc.tokens.list.query()) };
    }),
  );
  expect(outcomes.filter((o) => o.code !== 'ok').map((o) => o.code)).toEqual(Array(SIGN_UPS - 1).fill('FORBIDDEN'));
  return outcomes.filter((o) => o.code === 'ok').map((o) => o.username);
}

async function expectLaterSignUpIsNotAdmin(server: TestServer): Promise<void> {
  const latecomer = await clientsOf(server)
    .connect()
    .trpc.auth.signUp.mutate({ username: `late-${randomBytes(3).toString('hex')}`, password: PASSWORD });
  const client = clientsOf(server).connect({ getToken: () => latecomer.accessToken });
  expect(await codeOf(client.trpc.tokens.list.query())).toBe('FORBIDDEN');
}

describe('the first sign-up administers the server', () => {
  it('on PGlite: 20 concurrent first sign-ups make exactly one admin', async () => {
    const server = await serverWith();
    expect(await adminsInStore(server)).toEqual([]);

    const signUps = await concurrentSignUps([server]);
    expect(new Set(signUps.map((s) => s.session.user.id)).size).toBe(SIGN_UPS);
    const admins = await adminsInStore(server);
    expect(admins).toHaveLength(1);
    expect(await usersAllowedToListTokens(signUps)).toEqual(admins);
    await expectLaterSignUpIsNotAdmin(server);
    expect(await adminsInStore(server)).toEqual(admins);
  });

  const postgres = testEnv.databaseUrl;
  if (!postgres) announceSkip('admin bootstrap on PostgreSQL (two server processes racing)', 'DATABASE_URL is not set');
  it.skipIf(!postgres)(
    'on PostgreSQL: 20 concurrent first sign-ups spread over two servers on one database make exactly one admin',
    async () => {
      const isolated = await createIsolatedSchema(postgres as string);
      cleanups.push(() => isolated.drop());
      const overrides = { databaseUrl: postgres, databaseSchema: isolated.schema };
      // One after the other, so that the race under test is sign-up's own, not migration's.
      const first = await serverWith(overrides);
      const second = await serverWith(overrides);
      expect(await adminsInStore(first)).toEqual([]);

      const signUps = await concurrentSignUps([first, second]);
      expect(signUps.filter((s) => s.server === second)).toHaveLength(SIGN_UPS / 2);
      // Both servers see the same users table.
      const users = await second.store.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
      expect(users[0]?.n).toBe(SIGN_UPS);
      const admins = await adminsInStore(first);
      expect(admins).toHaveLength(1);
      expect(await adminsInStore(second)).toEqual(admins);
      expect(await usersAllowedToListTokens(signUps)).toEqual(admins);
      await expectLaterSignUpIsNotAdmin(second);
      expect(await adminsInStore(first)).toEqual(admins);
    },
  );
});
