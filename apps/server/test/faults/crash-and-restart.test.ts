import { randomUUID } from 'node:crypto';
import type { TetherClient } from '@tether/client';
import type { Message } from '@tether/protocol';
import { killAllServers, respawn, type ServerProcess, spawnServer } from '@tether/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { gapsAndDuplicates, observeRoom, type RoomObserver } from '../helpers/room-observer';
import { createScratchDatabase } from '../helpers/scratch-database';
import { announceSkip, testEnv } from '../helpers/test-env';
import { clientFactory } from '../helpers/test-server';

const SUBSCRIBERS = 50;
const SENDERS = 10;
const MESSAGES_PER_SENDER = 20;
const USERS = 5;

let server: ServerProcess;
const clients = clientFactory(() => server.wsUrl);

afterEach(() => clients.disposeAll());
afterAll(() => killAllServers());

interface Outcome {
  observers: RoomObserver[];
  sent: Message[];
  sendErrors: unknown[];
  committed: Message[];
  finalSeq: number;
}

/**
 * 50 subscribers in one room, 10 of them sending numbered messages with
 * idempotency keys; `disrupt` is called once a third of the messages are
 * acknowledged and must bring a server back on the same port and data dir.
 */
async function chatThrough(disrupt: () => Promise<void>, env: Record<string, string> = {}): Promise<Outcome> {
  server = await spawnServer({ env });
  const anonymous = clients.connect();
  const sessions = await Promise.all(
    Array.from({ length: USERS }, (_, i) =>
      anonymous.trpc.auth.signUp.mutate({ username: `u${i}-${randomUUID().slice(0, 6)}`, password: 'a long password' }),
    ),
  );
  const connectAs = (i: number): TetherClient => {
    const session = sessions[i % USERS];
    if (!session) throw new Error('no session');
    return clients.connect({ getToken: () => session.accessToken });
  };
  const owner = connectAs(0);
  const room = await owner.trpc.rooms.create.mutate({
    name: `faults-${randomUUID().slice(0, 8)}`,
    visibility: 'public',
  });
  for (let i = 1; i < USERS; i += 1) await connectAs(i).trpc.rooms.join.mutate({ roomId: room.id });

  const subscribers = Array.from({ length: SUBSCRIBERS }, (_, i) => connectAs(i));
  const observers = subscribers.map((client) => observeRoom(client, room.id, '0'));
  await Promise.all(observers.map((o) => o.live));

  const sent: Message[] = [];
  const sendErrors: unknown[] = [];
  const total = SENDERS * MESSAGES_PER_SENDER;
  let disrupted: Promise<void> | null = null;
  await Promise.all(
    subscribers.slice(0, SENDERS).map(async (client, sender) => {
      for (let i = 0; i < MESSAGES_PER_SENDER; i += 1) {
        const body = `sender ${sender} message ${i}`;
        try {
          sent.push(
            await client.trpc.messages.send.mutate({
              roomId: room.id,
              body,
              idempotencyKey: `${room.id}:${sender}:${i}`,
            }),
          );
        } catch (error) {
          sendErrors.push(error);
        }
        if (!disrupted && sent.length >= total / 3) disrupted = disrupt();
      }
    }),
  );
  await disrupted;

  // The store's own account of the room: a fresh subscriber replays it all.
  const auditor = observeRoom(connectAs(0), room.id, '0');
  await auditor.live;
  const finalSeq = auditor.events.at(-1)?.seq ?? 0;
  await Promise.all(observers.map((o) => o.untilSeq(finalSeq)));
  const committed = auditor.events.flatMap((e) => (e.type === 'message.sent' ? [e.message] : []));
  return { observers, sent, sendErrors, committed, finalSeq };
}

function expectExactlyOnce(outcome: Outcome): void {
  const { observers, sent, sendErrors, committed, finalSeq } = outcome;
  expect(sendErrors).toEqual([]);
  expect(sent).toHaveLength(SENDERS * MESSAGES_PER_SENDER);
  // Every send applied exactly once: one committed message per key, and the caller got that message.
  expect(committed).toHaveLength(SENDERS * MESSAGES_PER_SENDER);
  expect(new Set(committed.map((m) => m.body)).size).toBe(committed.length);
  const committedIds = new Set(committed.map((m) => m.id));
  for (const message of sent) expect(committedIds.has(message.id)).toBe(true);
  // Every subscriber holds exactly the committed sequence: no gap, no duplicate, in order.
  const expectedSeqs = Array.from({ length: finalSeq }, (_, i) => i + 1);
  for (const observer of observers) {
    expect(gapsAndDuplicates(observer.events)).toEqual({ gaps: [], duplicates: [] });
    expect(observer.events.map((e) => e.seq)).toEqual(expectedSeqs);
  }
  console.info(
    `[figures] ${observers.length} subscribers x ${finalSeq} events = ${observers.length * finalSeq} deliveries checked; ` +
      `${sent.length} sends, 0 gaps, 0 duplicates`,
  );
}

describe('a server that dies', () => {
  it('kill -9 mid-stream: after a restart every subscriber holds the committed sequence and every send applied once', async () => {
    const outcome = await chatThrough(async () => {
      const crashed = server;
      crashed.signal('SIGKILL');
      await crashed.exited;
      server = await respawn(crashed);
    });
    expectExactlyOnce(outcome);
  });

  it('SIGTERM mid-stream: the same, and no error reaches application callbacks', async () => {
    const outcome = await chatThrough(async () => {
      const stopping = server;
      stopping.signal('SIGTERM');
      expect(await stopping.exited).toEqual({ code: 0, signal: null });
      server = await respawn(stopping);
    });
    expectExactlyOnce(outcome);
    for (const observer of outcome.observers) expect(observer.errors).toEqual([]);
  });
});

const { databaseUrl } = testEnv;
if (!databaseUrl) announceSkip('kill -9 on PostgreSQL', 'DATABASE_URL is not set');

describe.skipIf(!databaseUrl)('a server on PostgreSQL that dies', () => {
  it('kill -9 mid-stream: every acknowledged send survives and subscribers resume exactly once', async () => {
    if (!databaseUrl) throw new Error('unreachable: skipped without DATABASE_URL');
    const database = await createScratchDatabase(databaseUrl, 'tether_crash');
    try {
      const env = { DATABASE_URL: database.url };
      const outcome = await chatThrough(async () => {
        const crashed = server;
        crashed.signal('SIGKILL');
        await crashed.exited;
        server = await respawn(crashed, env);
      }, env);
      expectExactlyOnce(outcome);
    } finally {
      await clients.disposeAll();
      await killAllServers();
      await database.drop();
    }
  });
});
