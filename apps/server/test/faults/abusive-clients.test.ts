import { randomUUID } from 'node:crypto';
import { CloseCode, LIMITS } from '@tether/protocol';
import { killAllServers, type ServerProcess, spawnServer } from '@tether/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { connectionParamsMessage, openRawSocket } from '../helpers/raw-socket';
import { gapsAndDuplicates, observeRoom } from '../helpers/room-observer';
import { CURRENT_PROTOCOL_VERSION, clientFactory, signUpUser } from '../helpers/test-server';

const MiB = 1024 * 1024;
const SEND_BUFFER_CAP = 1 * MiB;
/**
 * The stated bound on memory held for clients: unsent bytes over all
 * connections stay under the slow reader's cap plus one event's fan-out and
 * the other readers' in-flight events.
 */
const UNSENT_BOUND = 2 * MiB;
const FLOOD_MESSAGES = 500;
const SLOW_READER_SUBSCRIPTIONS = 100;

let server: ServerProcess;
const clients = clientFactory(() => server.wsUrl);

afterEach(() => clients.disposeAll());
afterAll(() => killAllServers());

describe('a reader that stops reading', () => {
  it('is closed 4508 while memory stays bounded and every other subscriber still gets every event', async () => {
    server = await spawnServer({
      env: {
        TETHER_SEND_BUFFER_BYTES: String(SEND_BUFFER_CAP),
        // The flood comes from one sender; only the slow reader is under test here.
        TETHER_RATE_PER_SECOND: '100000',
        TETHER_RATE_BURST: '100000',
      },
    });
    const alice = await signUpUser(clients, 'alice');
    const room = await alice.client.trpc.rooms.create.mutate({
      name: `flood-${randomUUID().slice(0, 8)}`,
      visibility: 'public',
    });
    const observers = Array.from({ length: 5 }, () =>
      observeRoom(clients.connect({ getToken: () => alice.session.accessToken }), room.id, '0'),
    );
    await Promise.all(observers.map((o) => o.live));

    const slow = await openRawSocket(`${server.wsUrl}?connectionParams=1`);
    slow.send(connectionParamsMessage({ protocolVersion: CURRENT_PROTOCOL_VERSION, token: alice.session.accessToken }));
    for (let id = 1; id <= SLOW_READER_SUBSCRIPTIONS; id += 1) {
      slow.send({ id, method: 'subscription', params: { path: 'rooms.events', input: { json: { roomId: room.id } } } });
    }
    for (let id = 1; id <= SLOW_READER_SUBSCRIPTIONS; id += 1) {
      await slow.waitForMessage((m) => m.id === id && (m.result as { type?: string } | undefined)?.type === 'started');
    }
    slow.socket.pause();
    const rssBefore = (await server.memory()).rssBytes;

    // A body near the limit: each event costs the slow reader ~4 KiB per subscription.
    const body = 'x'.repeat(LIMITS.messageBodyMax - 100);
    const fanOutPerEvent = SLOW_READER_SUBSCRIPTIONS * (body.length + 512);
    let last = 0;
    let maxUnsent = 0;
    for (let i = 0; i < FLOOD_MESSAGES; i += 1) {
      last = (
        await alice.client.trpc.messages.send.mutate({ roomId: room.id, body, idempotencyKey: `${room.id}-${i}` })
      ).seq;
      if (i % 10 === 0)
        maxUnsent = Math.max(maxUnsent, (await alice.client.trpc.connection.health.query()).sendBufferBytes);
    }
    const cut = await server.waitForLog(
      (line) => line.event === 'session.limit_exceeded' && line.code === CloseCode.SlowConsumer,
    );
    // Cut as soon as its queue passed the cap: at most the cap plus the event that crossed it.
    expect(cut.bufferedBytes).toBeLessThanOrEqual(SEND_BUFFER_CAP + fanOutPerEvent);

    await Promise.all(observers.map((o) => o.untilSeq(last)));
    for (const observer of observers) {
      expect(gapsAndDuplicates(observer.events)).toEqual({ gaps: [], duplicates: [] });
      expect(observer.events.filter((e) => e.type === 'message.sent')).toHaveLength(FLOOD_MESSAGES);
    }
    // The server's own account of unsent bytes never passed the stated bound.
    expect(maxUnsent).toBeLessThanOrEqual(UNSENT_BOUND);
    const rssAfter = (await server.memory()).rssBytes;
    const unbounded = FLOOD_MESSAGES * fanOutPerEvent;
    console.info(
      `[figures] slow reader cut (4508) at ${(Number(cut.bufferedBytes) / MiB).toFixed(2)} MiB queued; ` +
        `unsent bytes over all connections peaked at ${(maxUnsent / MiB).toFixed(2)} MiB (bound ${UNSENT_BOUND / MiB} MiB; ` +
        `uncapped, ${(unbounded / MiB).toFixed(0)} MiB would have queued); server RSS ${(rssBefore / MiB).toFixed(0)} -> ${(rssAfter / MiB).toFixed(0)} MiB`,
    );
    slow.socket.terminate();
  });
});

describe('a client that floods', () => {
  it('is closed 4429 while others are served', async () => {
    server = await spawnServer({ env: { TETHER_RATE_PER_SECOND: '50', TETHER_RATE_BURST: '100' } });
    const bystander = clients.connect();
    await bystander.status.waitFor('connected');

    const flooder = await openRawSocket(`${server.wsUrl}?connectionParams=1`);
    flooder.send(connectionParamsMessage({ protocolVersion: CURRENT_PROTOCOL_VERSION }));
    for (let id = 1; id <= 1_000; id += 1) {
      flooder.send({ id, method: 'query', params: { path: 'connection.health', input: { json: null } } });
    }
    const closed = await flooder.waitForClose();
    expect(closed.code).toBe(CloseCode.RateLimited);
    expect((await bystander.trpc.connection.health.query()).status).toBe('ok');
    expect(bystander.status.get().state).toBe('connected');
  });
});
