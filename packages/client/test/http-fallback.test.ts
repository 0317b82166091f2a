import type { AppRouter, RoomStreamItem } from '@tether/protocol';
import {
  killAllServers,
  type NginxProxy,
  nginxBinary,
  respawn,
  type ServerProcess,
  spawnServer,
  startNginxProxy,
  type UpgradeMode,
} from '@tether/testing';
import { createTRPCClient, httpLink } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionStatus, TetherClient } from '../src';
import { createTetherClient } from '../src/node';

const nginx = await nginxBinary();
if (!nginx) console.warn('[skip] HTTP fallback through nginx: nginx is not installed (.ci/run installs it)');

let server: ServerProcess;
let token: string;
beforeAll(async () => {
  if (!nginx) return;
  server = await spawnServer();
  const direct = createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${server.url}/trpc`, transformer: superjson })],
  });
  ({ accessToken: token } = await direct.auth.signUp.mutate({
    username: 'fallback-user',
    password: 'a long password',
  }));
});
afterAll(() => killAllServers());

/** Resolves when `check` holds for the client's status, now or later. */
function statusWhere(client: TetherClient, check: (status: ConnectionStatus) => boolean): Promise<ConnectionStatus> {
  return new Promise((resolve) => {
    const stop = client.status.subscribe((status) => {
      if (!check(status)) return;
      stop();
      resolve(status);
    });
    if (check(client.status.get())) {
      stop();
      resolve(client.status.get());
    }
  });
}

function clientThrough(proxy: NginxProxy): TetherClient {
  return createTetherClient({
    url: proxy.wsUrl,
    getToken: () => token,
    reconnect: { baseMs: 50, maxMs: 400, stableAfterMs: 500 },
  });
}

/** The bodies of `message.sent` events as one subscriber sees them, and a way to wait for more. */
function follow(client: TetherClient, roomId: string) {
  const bodies: string[] = [];
  const waiters: Array<() => void> = [];
  let synced = 0;
  const subscription = client.trpc.rooms.events.subscribe(
    { roomId },
    {
      onData: ({ data }: { data: RoomStreamItem }) => {
        if (data.type === 'synced') synced += 1;
        if (data.type === 'message.sent') bodies.push(data.message.body);
        for (const waiter of waiters.splice(0)) waiter();
      },
    },
  );
  const until = (check: () => boolean) =>
    new Promise<void>((resolve) => {
      const poll = () => (check() ? resolve() : waiters.push(poll));
      poll();
    });
  return { bodies, until, synced: () => synced, stop: () => subscription.unsubscribe() };
}

describe.skipIf(!nginx).each<UpgradeMode>(['refuse', 'cut'])('behind nginx that %ss WebSocket upgrades', (mode) => {
  let proxy: NginxProxy;
  beforeAll(async () => {
    proxy = await startNginxProxy(server.port, mode);
  });
  afterAll(() => proxy?.stop());

  it('carries on over HTTP and SSE, resumes across a server restart, and moves back to WebSocket when allowed', async () => {
    const client = clientThrough(proxy);
    try {
      const onHttp = await statusWhere(client, (s) => s.transport === 'http' && s.state === 'connected');
      expect(onHttp.transport).toBe('http');

      // Calls go through HTTP batches, superjson intact; several in one tick share a request.
      const [me, room] = await Promise.all([
        client.trpc.auth.me.query(),
        client.trpc.rooms.create.mutate({ name: `fallback-${mode}`, visibility: 'public' }),
      ]);
      expect(me.username).toBe('fallback-user');
      expect(room.createdAt).toBeInstanceOf(Date);

      const room$ = follow(client, room.id);
      await room$.until(() => room$.synced() === 1);
      const send = (body: string) =>
        client.trpc.messages.send.mutate({ roomId: room.id, body, idempotencyKey: `fallback-${mode}-${body}` });
      await send('1');
      await send('2');
      // A keyed retry over HTTP is applied once.
      await send('2');
      await room$.until(() => room$.bodies.length === 2);

      server.signal('SIGKILL');
      await server.exited;
      server = await respawn(server);
      await send('3');
      await room$.until(() => room$.bodies.length === 3);
      expect(client.status.get().transport).toBe('http');

      // Upgrades allowed again: the client moves back while messages keep coming.
      await proxy.setMode('pass');
      const sending = (async () => {
        for (let n = 4; n <= 12; n += 1) {
          await send(String(n));
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      await statusWhere(client, (s) => s.transport === 'websocket' && s.state === 'connected');
      await sending;
      await room$.until(() => room$.bodies.length >= 12);
      expect(room$.bodies).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12']);
      room$.stop();
    } finally {
      await client.dispose();
      await proxy.setMode(mode);
    }
  }, 60_000);
});
