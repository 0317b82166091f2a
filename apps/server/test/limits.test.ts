import { randomUUID } from 'node:crypto';
import { type AppRouter, CloseCode } from '@tether/protocol';
import type { TRPCClientError } from '@trpc/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectionParamsMessage, openRawSocket, type RawSocket } from './helpers/raw-socket';
import { observeRoom } from './helpers/room-observer';
import {
  CURRENT_PROTOCOL_VERSION,
  clientFactory,
  signUpUser,
  startTestServer,
  type TestServer,
} from './helpers/test-server';

const MAX_SUBSCRIPTIONS = 2;
const BURST = 20;

let server: TestServer;
const clients = clientFactory(() => server.wsUrl);
const sockets: RawSocket[] = [];

beforeAll(async () => {
  server = await startTestServer({
    limits: {
      maxSubscriptionsPerConnection: MAX_SUBSCRIPTIONS,
      messagesPerSecond: 5,
      messageBurst: BURST,
      maxConnections: 50,
    },
  });
});
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await clients.disposeAll();
});
afterAll(() => server.dispose());

const subscriptionError = (client: ReturnType<typeof clients.connect>, roomId: string) =>
  new Promise<TRPCClientError<AppRouter>>((resolve) => {
    client.trpc.rooms.events.subscribe(
      { roomId },
      { onError: (error) => resolve(error as TRPCClientError<AppRouter>) },
    );
  });

describe('per-connection limits', () => {
  it('refuses subscriptions over the limit, and frees the slot of one that failed to start', async () => {
    const alice = await signUpUser(clients, 'alice');
    const room = await alice.client.trpc.rooms.create.mutate({
      name: `lim-${randomUUID().slice(0, 8)}`,
      visibility: 'public',
    });
    // Failed starts (no such room) must not use up the connection's slots.
    for (let i = 0; i <= MAX_SUBSCRIPTIONS; i += 1) {
      expect((await subscriptionError(alice.client, randomUUID())).data?.code).toBe('NOT_FOUND');
    }
    const running = Array.from({ length: MAX_SUBSCRIPTIONS }, () => observeRoom(alice.client, room.id));
    await Promise.all(running.map((o) => o.live));
    expect((await subscriptionError(alice.client, room.id)).data?.code).toBe('TOO_MANY_REQUESTS');
    // Stopping one frees its slot.
    running[0]?.stop();
    const replacement = observeRoom(alice.client, room.id);
    await replacement.live;
  });

  it('charges a batch frame one token per call, so batching cannot dodge the rate limit', async () => {
    const socket = await openRawSocket(`${server.wsUrl}?connectionParams=1`);
    sockets.push(socket);
    socket.send(connectionParamsMessage({ protocolVersion: CURRENT_PROTOCOL_VERSION }));
    const batch = Array.from({ length: BURST + 1 }, (_, i) => ({
      id: i + 1,
      method: 'query',
      params: { path: 'connection.health', input: { json: null } },
    }));
    socket.send(batch);
    expect((await socket.waitForClose()).code).toBe(CloseCode.RateLimited);
  });

  it('closes connections beyond the per-process limit with 1013', async () => {
    const small = await startTestServer({ limits: { maxConnections: 1 } });
    try {
      const first = await openRawSocket(`${small.wsUrl}?connectionParams=1`);
      sockets.push(first);
      const second = await openRawSocket(`${small.wsUrl}?connectionParams=1`);
      sockets.push(second);
      expect((await second.waitForClose()).code).toBe(CloseCode.TryAgainLater);
    } finally {
      await small.dispose();
    }
  });
});

describe('client start-up failures', () => {
  it('reports an unreachable server as reconnecting and can still be disposed', async () => {
    for (const url of ['ws://127.0.0.1:1/trpc', 'not a url']) {
      const client = clients.connect({ url });
      expect((await client.status.waitFor('reconnecting')).state).toBe('reconnecting');
      await client.dispose();
      expect(client.status.get().state).toBe('closed');
    }
  });

  it('disposes while getToken is still pending', async () => {
    const client = clients.connect({ getToken: () => new Promise<string>(() => {}) });
    await client.dispose();
    expect(client.status.get()).toMatchObject({ state: 'closed', reason: 'disposed' });
  });
});
