import { randomBytes, randomUUID } from 'node:crypto';
import type { TetherClient } from '@tether/client';
import type { AppRouter, AuthSession, RoomStreamItem } from '@tether/protocol';
import { createIsolatedSchema } from '@tether/server-core/testing';
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { announceSkip, testEnv } from './helpers/test-env';
import { type ConfigOverrides, clientFactory, startTestServer, type TestServer } from './helpers/test-server';

/** Text PostgreSQL cannot store (NUL) or that its jsonb refuses (unpaired surrogates), in several shapes. */
const UNSTORABLE = {
  'a NUL': 'before\u0000after',
  'only a NUL': '\u0000',
  'a lone high surrogate': 'wave \uD83D alone',
  'a lone low surrogate': 'tail \uDC4B alone',
  'a reversed pair': 'reversed \uDC4B\uD83D pair',
  'a high surrogate at the end': 'ends with \uD800',
};
const CASES = Object.entries(UNSTORABLE);

/** Text with surrogate pairs, a ZWJ sequence and a combining mark: storable, and must come back as sent. */
const EMOJI = 'hi 👋 — 𝄞 👩‍👩‍👧 é ✓';
const PASSWORD = 'correct horse battery staple';

/** What the database or its driver says about such text: none of it may reach a client. */
const DRIVER_TEXT = /invalid byte sequence|unsupported Unicode escape|UTF8|0x00|check constraint|violates|relation "/i;

const unstorableMessage = (field: string) =>
  `${field} must not contain the NUL character (U+0000) or unpaired surrogate code units`;

const key = () => `k-${randomUUID()}`;

async function failure(promise: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  return error as TRPCClientError<AppRouter>;
}

/** Everything the client received about the failure, as one string. */
const everything = (error: TRPCClientError<AppRouter>) =>
  JSON.stringify({ message: error.message, shape: error.shape, data: error.data });

/** BAD_REQUEST with the zod issue for `field`, its message in the error's own message too, and no driver text. */
async function expectRefused(promise: Promise<unknown>, field: string, message: string): Promise<void> {
  const error = await failure(promise);
  expect(error.data?.code).toBe('BAD_REQUEST');
  expect(error.data?.zodIssues).toEqual(
    expect.arrayContaining([expect.objectContaining({ path: [field], message: expect.stringContaining(message) })]),
  );
  expect(error.message).toContain(message);
  expect(everything(error)).not.toMatch(DRIVER_TEXT);
}

const expectUnstorable = (promise: Promise<unknown>, field: string) =>
  expectRefused(promise, field, unstorableMessage(field));

interface Engine {
  name: string;
  start(): Promise<{ server: TestServer; stop(): Promise<void> }>;
}

const engines: Engine[] = [
  {
    name: 'PGlite',
    async start() {
      const server = await startTestServer();
      return { server, stop: () => server.dispose() };
    },
  },
];
const postgresUrl = testEnv.databaseUrl;
if (postgresUrl) {
  engines.push({
    name: 'PostgreSQL',
    async start() {
      const isolated = await createIsolatedSchema(postgresUrl);
      const overrides: ConfigOverrides = { databaseUrl: postgresUrl, databaseSchema: isolated.schema };
      const server = await startTestServer(overrides).catch(async (error: unknown) => {
        await isolated.drop();
        throw error;
      });
      return {
        server,
        async stop() {
          await server.dispose();
          await isolated.drop();
        },
      };
    },
  });
} else {
  announceSkip('unstorable input on PostgreSQL', 'DATABASE_URL is not set');
}

describe.each(engines)('text the database cannot store, on $name', (engine) => {
  let server: TestServer;
  let stop: () => Promise<void>;
  const clients = clientFactory(() => server.wsUrl);
  const httpClients: Array<ReturnType<typeof createTRPCClient<AppRouter>>> = [];

  beforeAll(async () => {
    ({ server, stop } = await engine.start());
  });
  afterEach(async () => {
    httpClients.splice(0);
    await clients.disposeAll();
  });
  afterAll(() => stop());

  async function signUp(prefix: string): Promise<{ session: AuthSession; client: TetherClient }> {
    const session = await clients.connect().trpc.auth.signUp.mutate({
      username: `${prefix}-${randomBytes(3).toString('hex')}`,
      password: PASSWORD,
    });
    return { session, client: clients.connect({ getToken: () => session.accessToken }) };
  }

  async function roomWithOneMessage(client: TetherClient) {
    const room = await client.trpc.rooms.create.mutate({ name: `u-${randomBytes(4).toString('hex')}` });
    const message = await client.trpc.messages.send.mutate({
      roomId: room.id,
      body: 'baseline',
      idempotencyKey: key(),
    });
    return { room, message };
  }

  /** The room as stored: its messages (oldest first) and its last seq. */
  async function storedRoom(client: TetherClient, roomId: string) {
    const page = await client.trpc.messages.list.query({ roomId });
    const room = await client.trpc.rooms.get.query({ roomId });
    return {
      messages: page.messages.map((m) => ({ id: m.id, body: m.body, editedAt: m.editedAt })).reverse(),
      lastSeq: room.lastSeq,
    };
  }

  /** The stock tRPC HTTP client (batching, superjson), signed in with `token` when given. */
  function overHttp(token?: string) {
    const client = createTRPCClient<AppRouter>({
      links: [
        httpBatchLink({
          url: `${server.url}/trpc`,
          transformer: superjson,
          headers: () => (token ? { authorization: `Bearer ${token}` } : {}),
        }),
      ],
    });
    httpClients.push(client);
    return client;
  }

  /** The socket never closed while it refused bad input. */
  function expectStillConnected(client: TetherClient): void {
    expect(client.status.get()).toMatchObject({ state: 'connected', lastCloseCode: null });
  }

  it('refuses NUL and unpaired surrogates in message bodies (send and edit) over WebSocket, storing nothing', async () => {
    const { client } = await signUp('body');
    const { room, message } = await roomWithOneMessage(client);
    const before = await storedRoom(client, room.id);
    expect(before.messages).toEqual([{ id: message.id, body: 'baseline', editedAt: null }]);

    for (const [, body] of CASES) {
      await expectUnstorable(
        client.trpc.messages.send.mutate({ roomId: room.id, body, idempotencyKey: key() }),
        'body',
      );
      await expectUnstorable(client.trpc.messages.edit.mutate({ messageId: message.id, body }), 'body');
      await expectUnstorable(
        client.trpc.messages.edit.mutate({ messageId: message.id, body, idempotencyKey: key() }),
        'body',
      );
    }
    expect(await storedRoom(client, room.id)).toEqual(before);

    // The same connection still sends.
    expectStillConnected(client);
    const after = await client.trpc.messages.send.mutate({
      roomId: room.id,
      body: 'still here',
      idempotencyKey: key(),
    });
    expect(after.seq).toBe((before.lastSeq ?? 0) + 1);
  });

  it('refuses NUL and unpaired surrogates in passwords and tokens over WebSocket, and they change nothing', async () => {
    const anonymous = clients.connect();
    for (const [name, bad] of CASES) {
      const username = `pw-${randomBytes(3).toString('hex')}`;
      await expectUnstorable(
        anonymous.trpc.auth.signUp.mutate({ username, password: `${PASSWORD}${bad}` }),
        'password',
      );
      // Refused before anything was written: the name is still free.
      const [row] = await server.store.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM users WHERE username = $1',
        [username],
      );
      expect({ name, users: row?.n }).toEqual({ name, users: 0 });
      const session = await anonymous.trpc.auth.signUp.mutate({ username, password: PASSWORD });
      expect(session.user.username).toBe(username);

      // A password with the bad text appended is refused as input, not checked against the hash.
      await expectUnstorable(
        anonymous.trpc.auth.signIn.mutate({ username, password: `${PASSWORD}${bad}` }),
        'password',
      );

      // Tokens with the bad text appended: refused, and the real refresh token is neither used nor revoked.
      await expectUnstorable(
        anonymous.trpc.auth.refresh.mutate({ refreshToken: `${session.refreshToken}${bad}` }),
        'refreshToken',
      );
      await expectUnstorable(
        anonymous.trpc.auth.signOut.mutate({ refreshToken: `${session.refreshToken}${bad}` }),
        'refreshToken',
      );
      await expectUnstorable(anonymous.trpc.auth.refresh.mutate({ refreshToken: bad }), 'refreshToken');
      const refreshed = await anonymous.trpc.auth.refresh.mutate({ refreshToken: session.refreshToken });
      expect(refreshed.user.id).toBe(session.user.id);

      const signedIn = clients.connect({ getToken: () => refreshed.accessToken });
      await expectUnstorable(
        signedIn.trpc.connection.renew.mutate({ accessToken: `${refreshed.accessToken}${bad}` }),
        'accessToken',
      );
      expect((await signedIn.trpc.auth.me.query()).id).toBe(session.user.id);
      expectStillConnected(signedIn);
    }
    expectStillConnected(anonymous);
    expect((await anonymous.trpc.connection.health.query()).status).toBe('ok');
  });

  it('refuses NUL and unpaired surrogates in names, idempotency keys and resume points by their own patterns', async () => {
    const { session, client } = await signUp('names');
    const { room } = await roomWithOneMessage(client);
    const before = await storedRoom(client, room.id);
    const roomsBefore = await server.store.query<{ n: number }>('SELECT count(*)::int AS n FROM rooms');
    const usersBefore = await server.store.query<{ n: number }>('SELECT count(*)::int AS n FROM users');

    for (const [, bad] of CASES) {
      await expectRefused(
        clients.connect().trpc.auth.signUp.mutate({ username: `user${bad}`, password: PASSWORD }),
        'username',
        'username may contain only',
      );
      await expectRefused(
        clients.connect().trpc.auth.signIn.mutate({ username: `${session.user.username}${bad}`, password: PASSWORD }),
        'username',
        'username may contain only',
      );
      await expectRefused(
        client.trpc.rooms.create.mutate({ name: `room${bad}` }),
        'name',
        'room name may contain only',
      );
      await expectRefused(
        client.trpc.rooms.invite.mutate({ roomId: room.id, username: `guest${bad}` }),
        'username',
        'username may contain only',
      );
      await expectRefused(
        client.trpc.messages.send.mutate({ roomId: room.id, body: 'keyed badly', idempotencyKey: `key-${bad}-1234` }),
        'idempotencyKey',
        'idempotencyKey may contain only',
      );
      const subscriptionError = new Promise<unknown>((resolve) => {
        client.trpc.rooms.events.subscribe({ roomId: room.id, lastEventId: `1${bad}` }, { onError: resolve });
      });
      const error = (await subscriptionError) as TRPCClientError<AppRouter>;
      expect(error).toBeInstanceOf(TRPCClientError);
      expect(error.data?.code).toBe('BAD_REQUEST');
      expect(error.data?.zodIssues).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ path: ['lastEventId'], message: 'lastEventId must be a seq (a decimal integer)' }),
        ]),
      );
      expect(error.data?.zodIssues?.every((issue) => issue.path[0] === 'lastEventId')).toBe(true);
      expect(everything(error)).not.toMatch(DRIVER_TEXT);
    }
    expect(await storedRoom(client, room.id)).toEqual(before);
    expect(await server.store.query('SELECT count(*)::int AS n FROM rooms')).toEqual(roomsBefore);
    expect(await server.store.query('SELECT count(*)::int AS n FROM users')).toEqual(usersBefore);
    expectStillConnected(client);
  });

  it('accepts emoji (surrogate pairs) in bodies and passwords and returns them exactly as sent', async () => {
    const username = `emoji-${randomBytes(3).toString('hex')}`;
    const password = `${EMOJI} password`;
    const anonymous = clients.connect();
    const session = await anonymous.trpc.auth.signUp.mutate({ username, password });
    expect((await anonymous.trpc.auth.signIn.mutate({ username, password })).user.id).toBe(session.user.id);
    const client = clients.connect({ getToken: () => session.accessToken });
    const room = await client.trpc.rooms.create.mutate({ name: `e-${randomBytes(4).toString('hex')}` });

    const sent = await client.trpc.messages.send.mutate({ roomId: room.id, body: EMOJI, idempotencyKey: key() });
    expect(sent.body).toBe(EMOJI);
    const edited = await client.trpc.messages.edit.mutate({ messageId: sent.id, body: `${EMOJI} (edited 🎉)` });
    expect(edited.body).toBe(`${EMOJI} (edited 🎉)`);
    const page = await client.trpc.messages.list.query({ roomId: room.id });
    expect(page.messages.map((m) => m.body)).toEqual([`${EMOJI} (edited 🎉)`]);

    // Replayed from the event log (stored as jsonb) exactly as sent.
    const replayed: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const subscription = client.trpc.rooms.events.subscribe(
        { roomId: room.id, lastEventId: '0' },
        {
          onData: ({ data }: { data: RoomStreamItem }) => {
            if (data.type === 'message.sent' || data.type === 'message.edited') replayed.push(data.message.body);
            if (data.type === 'synced') {
              subscription.unsubscribe();
              resolve();
            }
          },
          onError: reject,
        },
      );
    });
    expect(replayed).toEqual([EMOJI, `${EMOJI} (edited 🎉)`]);
  });

  it('refuses the same over HTTP (stock tRPC client, batched) and accepts emoji there too', async () => {
    const { session, client } = await signUp('http');
    const { room, message } = await roomWithOneMessage(client);
    const before = await storedRoom(client, room.id);
    const http = overHttp(session.accessToken);
    const anonymous = overHttp();

    for (const [, bad] of CASES) {
      // Batched with a good call: the bad one fails alone.
      const [refusedSend, refusedEdit, health] = await Promise.allSettled([
        http.messages.send.mutate({ roomId: room.id, body: bad, idempotencyKey: key() }),
        http.messages.edit.mutate({ messageId: message.id, body: bad }),
        http.connection.health.query(),
      ]);
      await expectUnstorable(Promise.reject((refusedSend as PromiseRejectedResult).reason), 'body');
      await expectUnstorable(Promise.reject((refusedEdit as PromiseRejectedResult).reason), 'body');
      expect(health).toMatchObject({ status: 'fulfilled', value: { status: 'ok' } });

      await expectUnstorable(
        anonymous.auth.signUp.mutate({
          username: `h-${randomBytes(3).toString('hex')}`,
          password: `${PASSWORD}${bad}`,
        }),
        'password',
      );
      await expectUnstorable(
        anonymous.auth.refresh.mutate({ refreshToken: `${session.refreshToken}${bad}` }),
        'refreshToken',
      );
      await expectUnstorable(
        anonymous.auth.signOut.mutate({ refreshToken: `${session.refreshToken}${bad}` }),
        'refreshToken',
      );
      await expectRefused(
        http.messages.send.mutate({ roomId: room.id, body: 'keyed badly', idempotencyKey: `key-${bad}-1234` }),
        'idempotencyKey',
        'idempotencyKey may contain only',
      );
    }
    expect(await storedRoom(client, room.id)).toEqual(before);
    // The refresh token survived every refused call.
    expect((await anonymous.auth.refresh.mutate({ refreshToken: session.refreshToken })).user.id).toBe(session.user.id);

    const sent = await http.messages.send.mutate({ roomId: room.id, body: EMOJI, idempotencyKey: key() });
    expect(sent.body).toBe(EMOJI);
    const page = await http.messages.list.query({ roomId: room.id });
    expect(page.messages[0]).toMatchObject({ id: sent.id, body: EMOJI });
  });

  it('never lets an internal error carry its underlying message, over WebSocket or HTTP', async () => {
    // A cheap real failure below the services: a constraint the database enforces and no code expects.
    const marker = `trip-${randomBytes(4).toString('hex')}`;
    const constraint = `tether_test_refuses_${marker.replace('-', '_')}`;
    await server.store.exec(
      `ALTER TABLE messages ADD CONSTRAINT ${constraint} CHECK (position('${marker}' in body) = 0)`,
    );
    try {
      const { session, client } = await signUp('internal');
      const { room } = await roomWithOneMessage(client);
      const before = await storedRoom(client, room.id);
      const attempts = [
        client.trpc.messages.send.mutate({ roomId: room.id, body: `hello ${marker}`, idempotencyKey: key() }),
        overHttp(session.accessToken).messages.send.mutate({
          roomId: room.id,
          body: `hello ${marker}`,
          idempotencyKey: key(),
        }),
      ];
      for (const attempt of attempts) {
        const error = await failure(attempt);
        expect(error.data?.code).toBe('INTERNAL_SERVER_ERROR');
        expect(error.message).toBe('internal server error');
        expect(error.shape?.message).toBe('internal server error');
        expect(error.data?.zodIssues).toBeNull();
        expect(error.data).not.toHaveProperty('stack');
        expect(everything(error)).not.toMatch(DRIVER_TEXT);
        expect(everything(error)).not.toContain(constraint);
      }
      expect(await storedRoom(client, room.id)).toEqual(before);
      expectStillConnected(client);
      const after = await client.trpc.messages.send.mutate({
        roomId: room.id,
        body: 'fine again',
        idempotencyKey: key(),
      });
      expect(after.seq).toBe((before.lastSeq ?? 0) + 1);
    } finally {
      await server.store.exec(`ALTER TABLE messages DROP CONSTRAINT ${constraint}`);
    }
  });
});
