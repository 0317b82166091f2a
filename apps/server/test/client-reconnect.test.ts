import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionStatus } from '@tether/client';
import { CloseCode, type RoomEvent } from '@tether/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientFactory, signUpUser, startTestServer, type TestServer } from './helpers/test-server';

let dataDir: string;
let server: TestServer;
const clients = clientFactory(() => server.wsUrl);

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tether-restart-'));
  server = await startTestServer({ dataDir });
});
afterAll(async () => {
  await clients.disposeAll();
  await server.dispose();
  await rm(dataDir, { recursive: true, force: true });
});

/** Holds a client's next connection attempt (getToken runs before each) until opened. */
function connectionGate() {
  let open: () => void = () => {};
  let gate: Promise<void> = Promise.resolve();
  return {
    passed: () => gate,
    close() {
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    open: () => open(),
  };
}

describe('@tether/client across a server restart', () => {
  it('reports its status, reconnects after a graceful restart and resumes a live subscription without loss or repeats', async () => {
    const alice = await signUpUser(clients, 'alice');
    const room = await alice.client.trpc.rooms.create.mutate({
      name: `r-${randomUUID().slice(0, 8)}`,
      visibility: 'public',
    });
    const reader = await signUpUser(clients, 'reader');
    const gate = connectionGate();
    const readerClient = clients.connect({
      getToken: async () => {
        await gate.passed();
        return reader.session.accessToken;
      },
    });
    const statuses: ConnectionStatus[] = [];
    readerClient.status.subscribe((status) => statuses.push(status));

    const events: RoomEvent[] = [];
    const synced: number[] = [];
    let waiter: { count: number; resolve: () => void } | null = null;
    const received = (count: number) =>
      new Promise<void>((resolve) => {
        waiter = { count, resolve };
        if (events.length >= count) resolve();
      });
    let markLive: () => void = () => {};
    const live = new Promise<void>((resolve) => {
      markLive = resolve;
    });
    // Live start, no lastEventId: the resume point comes from the `synced` marker alone.
    readerClient.trpc.rooms.events.subscribe(
      { roomId: room.id },
      {
        onData: ({ data }) => {
          if (data.type === 'synced') {
            synced.push(data.seq);
            markLive();
            return;
          }
          events.push(data);
          if (waiter && events.length >= waiter.count) waiter.resolve();
        },
        onError: (error) => {
          throw error;
        },
      },
    );
    await live;

    // Graceful restart on the same port and data dir; the reader cannot reconnect until the gate opens.
    const { port, config } = server;
    gate.close();
    await server.close();
    server = await startTestServer({ dataDir, port, tokenSecret: config.tokenSecret });
    const send = (body: string) =>
      alice.client.trpc.messages.send.mutate({ roomId: room.id, body, idempotencyKey: `k-${randomUUID()}` });
    await send('while the reader was away 1');
    await send('while the reader was away 2');
    gate.open();
    await received(2);
    await send('after the reader is back');
    await received(3);

    expect(events.map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(events.map((e) => (e.type === 'message.sent' ? e.message.body : e.type))).toEqual([
      'while the reader was away 1',
      'while the reader was away 2',
      'after the reader is back',
    ]);
    // Live from seq 1 at first, then resumed after it and caught up at 3.
    expect(synced).toEqual([1, 3]);
    const restartNotice = statuses.find(
      (s) => s.state === 'reconnecting' && s.lastCloseCode === CloseCode.ServiceRestart,
    );
    expect(restartNotice).toMatchObject({ state: 'reconnecting', attempt: expect.any(Number) });
    expect(statuses.at(-1)?.state).toBe('connected');
  });

  it('queues requests issued while disconnected and sends them after the reconnect, or times them out', async () => {
    const client = clients.connect({ requests: { timeoutMs: 10_000 } });
    await client.status.waitFor('connected');
    const { port, config } = server;
    await server.close();
    await client.status.waitFor('reconnecting');
    const queued = client.trpc.connection.health.query();
    server = await startTestServer({ dataDir, port, tokenSecret: config.tokenSecret });
    expect((await queued).status).toBe('ok');

    const impatient = clients.connect({ requests: { timeoutMs: 200 } });
    await impatient.status.waitFor('connected');
    const { port: samePort, config: sameConfig } = server;
    await server.close();
    await impatient.status.waitFor('reconnecting');
    const error = await impatient.trpc.connection.health.query().catch((e: unknown) => e);
    expect(String(error)).toContain('connection.health got no answer within 200 ms (connection: reconnecting)');
    server = await startTestServer({ dataDir, port: samePort, tokenSecret: sameConfig.tokenSecret });
  });

  it('ends in closed with reason "disposed"', async () => {
    const client = clients.connect();
    await client.status.waitFor('connected');
    await client.dispose();
    expect(client.status.get()).toMatchObject({ state: 'closed', reason: 'disposed' });
    await expect(client.status.waitFor('connected')).rejects.toThrow('closed');
  });
});
