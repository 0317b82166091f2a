import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionParamsMessage, openRawSocket, type RawSocket } from './helpers/raw-socket';
import {
  CURRENT_PROTOCOL_VERSION,
  clientFactory,
  signUpUser,
  startTestServer,
  type TestServer,
} from './helpers/test-server';

const SUBSCRIBER_SOCKETS = 4;
const SUBSCRIPTIONS_PER_SOCKET = 75;

let server: TestServer;
const clients = clientFactory(() => server.wsUrl);
const sockets: RawSocket[] = [];

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await clients.disposeAll();
  await server.dispose();
});

/** A tRPC response frame; a tracked subscription item carries its event in `data.json.data`. */
type Frame = Record<string, unknown> & {
  id?: number;
  result?: { type?: string; data?: { json?: { data?: { type?: string } } } };
};

const itemType = (message: Record<string, unknown>) => (message as Frame).result?.data?.json?.data?.type;

async function signedInSocket(token: string): Promise<RawSocket & { frames: Frame[] }> {
  const socket = await openRawSocket(`${server.wsUrl}?connectionParams=1`);
  sockets.push(socket);
  const frames: Frame[] = [];
  socket.socket.on('message', (data) => {
    const text = data.toString();
    if (text !== 'PING' && text !== 'PONG') frames.push(JSON.parse(text) as Frame);
  });
  socket.send(connectionParamsMessage({ token, protocolVersion: CURRENT_PROTOCOL_VERSION }));
  return Object.assign(socket, { frames });
}

/** Opens `count` live subscriptions to the room on `socket` and waits until each has said `synced`. */
async function subscribe(socket: RawSocket, roomId: string, firstId: number, count: number): Promise<void> {
  const synced: Array<Promise<unknown>> = [];
  for (let id = firstId; id < firstId + count; id += 1) {
    socket.send({ id, method: 'subscription', params: { path: 'rooms.events', input: { json: { roomId } } } });
    synced.push(socket.waitForMessage((m) => m.id === id && itemType(m) === 'synced'));
  }
  await Promise.all(synced);
}

describe('fan-out', () => {
  it('answers the sender before it writes the event to any subscriber', async () => {
    const { session, client } = await signUpUser(clients, 'fanout');
    const room = await client.trpc.rooms.create.mutate({ name: `fan-${randomUUID().slice(0, 8)}` });
    const subscribers = await Promise.all(
      Array.from({ length: SUBSCRIBER_SOCKETS }, () => signedInSocket(session.accessToken)),
    );
    await Promise.all(subscribers.map((socket) => subscribe(socket, room.id, 1, SUBSCRIPTIONS_PER_SOCKET)));
    // The sender watches the room on its own socket too: one ordered stream shows which frame left first.
    const sender = await signedInSocket(session.accessToken);
    await subscribe(sender, room.id, 1, 1);

    const sendId = 1_000;
    sender.send({
      id: sendId,
      method: 'mutation',
      params: {
        path: 'messages.send',
        input: { json: { roomId: room.id, body: 'hello', idempotencyKey: randomUUID() } },
      },
    });
    const isSent = (m: Record<string, unknown>) => itemType(m) === 'message.sent';
    await sender.waitForMessage(isSent);
    await Promise.all(
      subscribers.flatMap((socket) =>
        Array.from({ length: SUBSCRIPTIONS_PER_SOCKET }, (_, i) =>
          socket.waitForMessage((m) => m.id === i + 1 && isSent(m)),
        ),
      ),
    );

    const answerAt = sender.frames.findIndex((frame) => frame.id === sendId);
    const eventAt = sender.frames.findIndex((frame) => isSent(frame));
    expect(answerAt).toBeGreaterThanOrEqual(0);
    expect(answerAt).toBeLessThan(eventAt);
  });
});
