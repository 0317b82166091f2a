import { randomUUID } from 'node:crypto';
import { type AppRouter, type ConnectionParams, PROTOCOL_VERSION, type RoomStreamItem } from '@tether/protocol';
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClientError,
  wsLink,
} from '@trpc/client';
import { EventSource } from 'eventsource';
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

describe('the stock @trpc/client over HTTP: httpBatchLink and httpSubscriptionLink (SSE)', () => {
  it('batches calls, streams tracked events over SSE from a resume point, and sees the same errors', async () => {
    const { session, client: tether } = await signUpUser(tetherClients, 'stock-http');
    const room = await tether.trpc.rooms.create.mutate({
      name: `stock-http-${randomUUID().slice(0, 8)}`,
      visibility: 'public',
    });
    const authorization = `Bearer ${session.accessToken}`;
    const url = `${server.url}/trpc`;
    const stock = createTRPCClient<AppRouter>({
      links: [
        splitLink({
          condition: (op) => op.type === 'subscription',
          true: httpSubscriptionLink({
            url,
            transformer: superjson,
            EventSource,
            // EventSource cannot set headers; this implementation lets its fetch carry the token.
            eventSourceOptions: () => ({
              fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, authorization } }),
            }),
          }),
          false: httpBatchLink({ url, transformer: superjson, headers: () => ({ authorization }) }),
        }),
      ],
    });

    const [me, rooms] = await Promise.all([stock.auth.me.query(), stock.rooms.list.query()]);
    expect(me).toEqual(session.user);
    expect(rooms.rooms.map((r) => r.id)).toContain(room.id);
    const sent = await stock.messages.send.mutate({
      roomId: room.id,
      body: 'first',
      idempotencyKey: `k-${randomUUID()}`,
    });
    expect(sent.createdAt).toBeInstanceOf(Date);

    // Replays from the start, then live: the same tracked items as over WebSocket.
    const items: Array<{ id: string; data: RoomStreamItem }> = [];
    const live = new Promise<void>((resolve, reject) => {
      const subscription = stock.rooms.events.subscribe(
        { roomId: room.id, lastEventId: '0' },
        {
          onData: (item) => {
            items.push(item);
            if (item.data.type === 'synced') {
              void stock.messages.send.mutate({ roomId: room.id, body: 'second', idempotencyKey: `k-${randomUUID()}` });
            }
            if (item.data.type === 'message.sent' && item.data.message.body === 'second') {
              subscription.unsubscribe();
              resolve();
            }
          },
          onError: reject,
        },
      );
    });
    await live;
    expect(items.map((item) => item.id)).toEqual(items.map((item) => String(item.data.seq)));
    expect(
      items
        .filter((item) => item.data.type === 'message.sent')
        .map((item) => item.data.type === 'message.sent' && item.data.message.body),
    ).toEqual(['first', 'second']);
    const synced = items.find((item) => item.data.type === 'synced')?.data;
    expect(synced?.type === 'synced' && synced.at).toBeInstanceOf(Date);

    const refused = await stock.rooms.create
      .mutate({ name: 'has spaces!', visibility: 'public' })
      .catch((error: TRPCClientError<AppRouter>) => error);
    expect(refused).toMatchObject({ data: { code: 'BAD_REQUEST' } });
  });
});
