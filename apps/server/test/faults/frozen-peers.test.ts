import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { killAllServers, type ServerProcess, spawnServer } from '@tether/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { gapsAndDuplicates, observeRoom } from '../helpers/room-observer';
import { testEnv } from '../helpers/test-env';
import { clientFactory, signUpUser } from '../helpers/test-server';

const CLIENT_HEARTBEAT = { intervalMs: 300, pongTimeoutMs: 300 };
const CLIENT_RECONNECT = { baseMs: 50, maxMs: 500, connectTimeoutMs: 1_000 };

let server: ServerProcess;
const clients = clientFactory(() => server.wsUrl);

afterEach(() => clients.disposeAll());
afterAll(() => killAllServers());

describe('a frozen server (SIGSTOP)', () => {
  it('is detected by client heartbeats, and after SIGCONT clients recover and resume', async () => {
    server = await spawnServer();
    const alice = await signUpUser(clients, 'alice');
    const room = await alice.client.trpc.rooms.create.mutate({
      name: `frozen-${randomUUID().slice(0, 8)}`,
      visibility: 'public',
    });
    const subscribers = Array.from({ length: 10 }, () =>
      clients.connect({
        getToken: () => alice.session.accessToken,
        keepAlive: CLIENT_HEARTBEAT,
        reconnect: CLIENT_RECONNECT,
      }),
    );
    const observers = subscribers.map((client) => observeRoom(client, room.id, '0'));
    await Promise.all(observers.map((o) => o.live));
    const send = (body: string) =>
      alice.client.trpc.messages.send.mutate({ roomId: room.id, body, idempotencyKey: `k-${randomUUID()}` });
    await send('before the freeze');

    server.signal('SIGSTOP');
    const frozenAt = performance.now();
    const detections = await Promise.all(
      subscribers.map((client) => client.status.waitFor('reconnecting').then(() => performance.now() - frozenAt)),
    );
    console.info(
      `[figures] frozen server detected by 10/10 clients after ${Math.round(Math.min(...detections))}–${Math.round(Math.max(...detections))} ms ` +
        `(ping ${CLIENT_HEARTBEAT.intervalMs} ms + pong timeout ${CLIENT_HEARTBEAT.pongTimeoutMs} ms)`,
    );

    server.signal('SIGCONT');
    await Promise.all(subscribers.map((client) => client.status.waitFor('connected')));
    const after = await send('after the thaw');
    await Promise.all(observers.map((o) => o.untilSeq(after.seq)));
    for (const observer of observers) {
      expect(gapsAndDuplicates(observer.events)).toEqual({ gaps: [], duplicates: [] });
      expect(observer.events.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(observer.errors).toEqual([]);
    }
  });
});

describe('a frozen client (SIGSTOP)', () => {
  it('is terminated by the server heartbeat, which frees its connection', async () => {
    server = await spawnServer({ env: { TETHER_PING_AFTER_MS: '300', TETHER_TERMINATE_AFTER_MS: '300' } });
    const alice = await signUpUser(clients, 'alice');
    const room = await alice.client.trpc.rooms.create.mutate({
      name: `frozen-${randomUUID().slice(0, 8)}`,
      visibility: 'public',
    });
    const connections = async () => (await alice.client.trpc.connection.health.query()).connections;
    const before = await connections();
    // Alice's client is idle between calls: it must answer the server's pings, or it would be cut too.
    const aliceStates: string[] = [];
    alice.client.status.subscribe((status) => aliceStates.push(status.state));

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('../fixtures/subscriber-process.ts', import.meta.url))],
      {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        env: {
          ...testEnv.processBase,
          FIXTURE_URL: server.wsUrl,
          FIXTURE_TOKEN: alice.session.accessToken,
          FIXTURE_ROOM: room.id,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      await new Promise<void>((resolve) => {
        createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
          if (line === 'live') resolve();
        });
      });
      expect(await connections()).toBe(before + 1);

      child.kill('SIGSTOP');
      const closed = await server.waitForLog(
        (line) => line.event === 'session.close' && line.client === 'subscriber-process',
      );
      // Terminated without a close handshake: the frozen peer could not answer one.
      expect(closed.code).toBe(1006);
      expect(await connections()).toBe(before);
      expect(aliceStates).toEqual([]);
      console.info(
        `[figures] frozen client cut by the server heartbeat (1006) ${closed.durationMs} ms after it connected`,
      );
    } finally {
      child.kill('SIGKILL');
    }
  });
});
