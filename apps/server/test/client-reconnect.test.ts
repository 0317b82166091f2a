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

describe('@tether/client across a server restart', () => {
  it('reports its status, reconnects after a graceful restart and resumes without loss or repeats', async () => {
    const alice = await signUpUser(clients, 'alice');
    const room = await alice.client.trpc.rooms.create.mutate({
      name: `r-${randomUUID().slice(0, 8)}`,
      visibility: 'public',
    });
    const reader = await signUpUser(clients, 'reader');
    const statuses: ConnectionStatus[] = [];
    reader.client.status.subscribe((status) => statuses.push(status));
    await reader.client.status.waitFor('connected');

    const events: RoomEvent[] = [];
    let onCount: { count: number; resolve: () => void } | null = null;
    const received = (count: number) =>
      new Promise<void>((resolve) => {
        onCount = { count, resolve };
        if (events.length >= count) resolve();
      });
    reader.client.trpc.rooms.events.subscribe(
      { roomId: room.id, lastEventId: '0' },
      {
        onData: ({ data }) => {
          events.push(data);
          if (onCount && events.length >= onCount.count) onCount.resolve();
        },
      },
    );
    const send = (body: string) =>
      alice.client.trpc.messages.send.mutate({ roomId: room.id, body, idempotencyKey: `k-${randomUUID()}` });
    await send('before 1');
    await send('before 2');
    await received(3);

    // Graceful restart on the same port and data dir.
    const { port, config } = server;
    await server.close();
    const reconnecting = await reader.client.status.waitFor('reconnecting');
    expect(reconnecting).toMatchObject({ lastCloseCode: CloseCode.ServiceRestart });
    server = await startTestServer({ dataDir, port, tokenSecret: config.tokenSecret });
    await reader.client.status.waitFor('connected');
    await alice.client.status.waitFor('connected');

    await send('after 1');
    await send('after 2');
    await received(5);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    expect(events.slice(1).map((e) => (e.type === 'message.sent' ? e.message.body : e.type))).toEqual([
      'before 1',
      'before 2',
      'after 1',
      'after 2',
    ]);
    const states = statuses.map((s) => s.state);
    expect(states).toContain('reconnecting');
    expect(states.at(-1)).toBe('connected');
    const retry = statuses.find((s) => s.state === 'reconnecting');
    expect(retry && 'retryInMs' in retry ? retry.retryInMs : -1).toBeGreaterThanOrEqual(0);
  });

  it('ends in closed with reason "disposed" and leaves no reconnect behind', async () => {
    const client = clients.connect();
    await client.status.waitFor('connected');
    await client.dispose();
    expect(client.status.get()).toMatchObject({ state: 'closed', reason: 'disposed' });
    await expect(client.status.waitFor('connected')).rejects.toThrow('closed');
  });
});
