import { type AppRouter, PROTOCOL_VERSION, type RoomStreamItem } from '@tether/protocol';
import { killAllServers, respawn, type ServerProcess, spawnServer } from '@tether/testing';
import { createTRPCClient, httpLink } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createTetherLink, type TetherLink } from '../src/link/tether-link';
import { DEFAULT_KEEP_ALIVE, DEFAULT_RECONNECT, type WebSocketConstructor } from '../src/options';

let server: ServerProcess;
let token: string;
beforeAll(async () => {
  server = await spawnServer();
  const http = createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${server.url}/trpc`, transformer: superjson })],
  });
  ({ accessToken: token } = await http.auth.signUp.mutate({ username: 'link-user', password: 'a long password' }));
});
afterAll(() => killAllServers());

function linkedClient(): { trpc: ReturnType<typeof createTRPCClient<AppRouter>>; tether: TetherLink<AppRouter> } {
  const tether = createTetherLink<AppRouter>({
    url: server.wsUrl,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    connectionParams: async () => ({ protocolVersion: String(PROTOCOL_VERSION), token }),
    keepAlive: DEFAULT_KEEP_ALIVE,
    reconnect: { ...DEFAULT_RECONNECT, baseMs: 50, maxMs: 500 },
    fallback: null,
  });
  return { trpc: createTRPCClient<AppRouter>({ links: [tether.link] }), tether };
}

describe('the Tether link against a real server', () => {
  it('calls queries and mutations, superjson intact, several in one tick', async () => {
    const { trpc, tether } = linkedClient();
    try {
      const [pong, me, room] = await Promise.all([
        trpc.connection.ping.query(),
        trpc.auth.me.query(),
        trpc.rooms.create.mutate({ name: 'link-calls', visibility: 'public' }),
      ]);
      expect(pong).toBeNull();
      expect(me.username).toBe('link-user');
      expect(room.createdAt).toBeInstanceOf(Date);
      expect(tether.state.state).toBe('connected');
    } finally {
      tether.dispose();
    }
  });

  it('resumes a subscription across a server restart: every event once, in order', async () => {
    const { trpc, tether } = linkedClient();
    const seen: number[] = [];
    let synced = 0;
    const waiters: Array<() => void> = [];
    const until = (check: () => boolean) =>
      new Promise<void>((resolve) => {
        const poll = () => (check() ? resolve() : waiters.push(poll));
        poll();
      });
    try {
      const room = await trpc.rooms.create.mutate({ name: 'link-resume', visibility: 'public' });
      const subscription = trpc.rooms.events.subscribe(
        { roomId: room.id },
        {
          onData: ({ data }: { data: RoomStreamItem }) => {
            if (data.type === 'synced') synced += 1;
            else if (data.type === 'message.sent') seen.push(Number(data.message.body));
            for (const waiter of waiters.splice(0)) waiter();
          },
        },
      );
      await until(() => synced === 1);
      for (const n of [1, 2, 3]) {
        await trpc.messages.send.mutate({ roomId: room.id, body: String(n), idempotencyKey: `link-resume-${n}` });
      }
      await until(() => seen.length === 3);
      server.signal('SIGKILL');
      await server.exited;
      server = await respawn(server);
      // Sent by another client while this one reconnects.
      const other = linkedClient();
      for (const n of [4, 5]) {
        await other.trpc.messages.send.mutate({ roomId: room.id, body: String(n), idempotencyKey: `link-resume-${n}` });
      }
      other.tether.dispose();
      await until(() => seen.length >= 5 && synced === 2);
      expect(seen).toEqual([1, 2, 3, 4, 5]);
      subscription.unsubscribe();
    } finally {
      tether.dispose();
    }
  });
});
