import { randomUUID } from 'node:crypto';
import { type AppRouter, type ConnectionParams, PROTOCOL_VERSION, type RoomStreamItem } from '@tether/protocol';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { clientFactory, signUpUser, startTestServer, type TestServer } from './helpers/test-server';

let server: TestServer;
const tetherClients = clientFactory(() => server.wsUrl);

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await tetherClients.disposeAll();
  await server.dispose();
});

describe("the stock @trpc/client wsLink (the wire stays tRPC's)", () => {
  it('calls procedures and receives tracked subscription events', async () => {
    const { session, client: tether } = await signUpUser(tetherClients, 'stock');
    const room = await tether.trpc.rooms.create.mutate({
      name: `stock-${randomUUID().slice(0, 8)}`,
      visibility: 'public',
    });

    const connectionParams: ConnectionParams = {
      token: session.accessToken,
      protocolVersion: String(PROTOCOL_VERSION),
    };
    const wsClient = createWSClient({
      url: server.wsUrl,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      connectionParams,
    });
    const stock = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient, transformer: superjson })] });
    try {
      expect(await stock.auth.me.query()).toEqual(session.user);
      const event = new Promise<{ id: string; data: RoomStreamItem }>((resolve) => {
        stock.rooms.events.subscribe(
          { roomId: room.id },
          {
            onData: (item) => {
              if (item.data.type !== 'synced') return resolve(item);
              // Live now: what is sent next must arrive.
              void stock.messages.send.mutate({
                roomId: room.id,
                body: 'from stock',
                idempotencyKey: `k-${randomUUID()}`,
              });
            },
          },
        );
      });
      const { id, data } = await event;
      expect(data).toMatchObject({ type: 'message.sent', message: { body: 'from stock' } });
      expect(id).toBe(String(data.seq));
    } finally {
      await wsClient.close();
    }
  });
});
