import { randomUUID } from 'node:crypto';
import { type AppRouter, PROTOCOL_VERSION, type RoomStreamItem } from '@tether/protocol';
import { killAllServers, respawn, type ServerProcess, spawnServer } from '@tether/testing';
import { createTRPCClient, createWSClient, httpLink, type TRPCClient, wsLink } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createTetherLink } from '../src/link/tether-link';
import { DEFAULT_KEEP_ALIVE, DEFAULT_RECONNECT, type WebSocketConstructor } from '../src/options';

/** The same wire tests, run with tRPC's stock wsLink and with Tether's link: the stock client stays supported. */

const MAX_SUBSCRIPTIONS = 3;
let server: ServerProcess;
beforeAll(async () => {
  server = await spawnServer({ env: { TETHER_MAX_SUBSCRIPTIONS: String(MAX_SUBSCRIPTIONS) } });
});
afterAll(() => killAllServers());

interface WireClient {
  trpc: TRPCClient<AppRouter>;
  /** The code of the first close the client sees. */
  firstClose: Promise<number>;
  dispose(): void;
}

type ClientFactory = (token: string, protocolVersion?: string) => WireClient;

const stockClient: ClientFactory = (token, protocolVersion = String(PROTOCOL_VERSION)) => {
  let closed = (_code: number) => {};
  const firstClose = new Promise<number>((resolve) => {
    closed = resolve;
  });
  const ws = createWSClient({
    url: server.wsUrl,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: () => ({ token, protocolVersion }),
    retryDelayMs: () => 50,
    onClose: (cause) => closed(cause?.code ?? 0),
  });
  return {
    trpc: createTRPCClient<AppRouter>({ links: [wsLink({ client: ws, transformer: superjson })] }),
    firstClose,
    dispose: () => void ws.close(),
  };
};

const tetherClient: ClientFactory = (token, protocolVersion = String(PROTOCOL_VERSION)) => {
  const tether = createTetherLink<AppRouter>({
    url: server.wsUrl,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    connectionParams: async () => ({ token, protocolVersion }),
    keepAlive: DEFAULT_KEEP_ALIVE,
    reconnect: { ...DEFAULT_RECONNECT, baseMs: 50, maxMs: 200 },
    fallback: null,
  });
  const firstClose = new Promise<number>((resolve) => {
    tether.onStateChange(({ lastCloseCode }) => {
      if (lastCloseCode !== null) resolve(lastCloseCode);
    });
  });
  return {
    trpc: createTRPCClient<AppRouter>({ links: [tether.link] }),
    firstClose,
    dispose: () => tether.dispose(),
  };
};

function http(token?: string): TRPCClient<AppRouter> {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${server.url}/trpc`,
        transformer: superjson,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      }),
    ],
  });
}

async function signUp(prefix: string): Promise<{ token: string; username: string }> {
  const username = `${prefix}${randomUUID().slice(0, 8)}`;
  const { accessToken } = await http().auth.signUp.mutate({ username, password: 'a long password' });
  return { token: accessToken, username };
}

/** Waits for `check` to hold, re-checked whenever `poke` is called. */
function waiter() {
  const waiting: Array<() => void> = [];
  return {
    poke: () => {
      for (const retry of waiting.splice(0)) retry();
    },
    until: (check: () => boolean) =>
      new Promise<void>((resolve) => {
        const poll = () => (check() ? resolve() : waiting.push(poll));
        poll();
      }),
  };
}

describe.each<[string, ClientFactory]>([
  ['the stock wsLink', stockClient],
  ["Tether's link", tetherClient],
])('the wire, with %s', (_, connect) => {
  it('resumes a subscription after a server restart: every event once, in order', async () => {
    const { token } = await signUp('resume');
    const client = connect(token);
    try {
      const room = await http(token).rooms.create.mutate({
        name: `r-${randomUUID().slice(0, 8)}`,
        visibility: 'public',
      });
      const bodies: string[] = [];
      const { poke, until } = waiter();
      let synced = 0;
      const subscription = client.trpc.rooms.events.subscribe(
        { roomId: room.id },
        {
          onData: ({ data }: { data: RoomStreamItem }) => {
            if (data.type === 'synced') synced += 1;
            if (data.type === 'message.sent') bodies.push(data.message.body);
            poke();
          },
        },
      );
      await until(() => synced === 1);
      const send = (body: string) =>
        http(token).messages.send.mutate({ roomId: room.id, body, idempotencyKey: `resume-${room.id}-${body}` });
      await send('1');
      await send('2');
      await until(() => bodies.length === 2);
      server.signal('SIGKILL');
      await server.exited;
      server = await respawn(server);
      await send('3');
      await send('4');
      await until(() => bodies.length >= 4 && synced >= 2);
      expect(bodies).toEqual(['1', '2', '3', '4']);
      subscription.unsubscribe();
    } finally {
      client.dispose();
    }
  }, 30_000);

  it('applies a keyed mutation once, however often it is sent', async () => {
    const { token } = await signUp('keyed');
    const client = connect(token);
    try {
      const room = await client.trpc.rooms.create.mutate({
        name: `k-${randomUUID().slice(0, 8)}`,
        visibility: 'public',
      });
      const input = { roomId: room.id, body: 'once', idempotencyKey: `keyed-${room.id}` };
      const [first, second] = await Promise.all([
        client.trpc.messages.send.mutate(input),
        client.trpc.messages.send.mutate(input),
      ]);
      const third = await client.trpc.messages.send.mutate(input);
      expect(second.id).toBe(first.id);
      expect(third.id).toBe(first.id);
      const history = await client.trpc.messages.list.query({ roomId: room.id, limit: 10 });
      expect(history.messages.map((m) => m.body)).toEqual(['once']);
    } finally {
      client.dispose();
    }
  });

  it('renews its token on the open socket', async () => {
    const { token, username } = await signUp('renew');
    const client = connect(token);
    try {
      expect((await client.trpc.auth.me.query()).username).toBe(username);
      const { accessToken } = await http().auth.signIn.mutate({ username, password: 'a long password' });
      const renewed = await client.trpc.connection.renew.mutate({ accessToken });
      expect(renewed.expiresAt.getTime()).toBeGreaterThan(Date.now());
      expect((await client.trpc.auth.me.query()).username).toBe(username);
      await expect(client.trpc.connection.renew.mutate({ accessToken: 'not-a-token' })).rejects.toMatchObject({
        data: { code: 'UNAUTHORIZED' },
      });
    } finally {
      client.dispose();
    }
  });

  it('is closed 4426 when it speaks another protocol version', async () => {
    const { token } = await signUp('version');
    const client = connect(token, '1');
    try {
      const call = client.trpc.connection.ping.query().catch((error: unknown) => error);
      expect(await client.firstClose).toBe(4426);
      client.dispose();
      expect(await call).toBeInstanceOf(Error);
    } finally {
      client.dispose();
    }
  });

  it(`refuses a subscription past ${MAX_SUBSCRIPTIONS} on one connection, and only that one`, async () => {
    const { token } = await signUp('limits');
    const client = connect(token);
    try {
      const room = await client.trpc.rooms.create.mutate({
        name: `l-${randomUUID().slice(0, 8)}`,
        visibility: 'public',
      });
      const subscribe = () =>
        new Promise<string>((resolve) => {
          client.trpc.rooms.events.subscribe(
            { roomId: room.id },
            {
              onData: ({ data }: { data: RoomStreamItem }) => {
                if (data.type === 'synced') resolve('synced');
              },
              onError: (error) => resolve(String(error.data?.code)),
            },
          );
        });
      // One after another, so the refused one is known: the last.
      const outcomes: string[] = [];
      for (let n = 0; n <= MAX_SUBSCRIPTIONS; n += 1) outcomes.push(await subscribe());
      expect(outcomes).toEqual([...Array<string>(MAX_SUBSCRIPTIONS).fill('synced'), 'TOO_MANY_REQUESTS']);
    } finally {
      client.dispose();
    }
  });
});
