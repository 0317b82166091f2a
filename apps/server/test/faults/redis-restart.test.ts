import { randomBytes, randomUUID } from 'node:crypto';
import type { AuthSession, Presence } from '@tether/protocol';
import {
  killAllServers,
  type RedisServer,
  redisServerBinary,
  type ServerProcess,
  spawnServer,
  startRedisServer,
} from '@tether/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { watchPresence } from '../helpers/presence-watcher';
import { gapsAndDuplicates, observeRoom } from '../helpers/room-observer';
import { createScratchDatabase, type ScratchDatabase } from '../helpers/scratch-database';
import { announceSkip, testEnv } from '../helpers/test-env';
import { clientFactory } from '../helpers/test-server';

const SUBSCRIBERS_PER_NODE = 3;
const MESSAGES = 60;

const { databaseUrl } = testEnv;
const redisBinary = await redisServerBinary();
if (!databaseUrl) announceSkip('two server processes across a Redis restart', 'DATABASE_URL is not set');
if (!redisBinary) announceSkip('two server processes across a Redis restart', 'redis-server is not installed');

describe.skipIf(!databaseUrl || !redisBinary)('two server processes across a Redis restart', () => {
  // Every client names the process it goes to.
  const clients = clientFactory(() => {
    throw new Error('a client here names its server: clients.on(url)');
  });
  let database: ScratchDatabase | undefined;
  let redis: RedisServer | undefined;
  afterAll(async () => {
    await clients.disposeAll();
    await killAllServers();
    await redis?.stop();
    await database?.drop();
  });
  const connect = (node: ServerProcess, session?: AuthSession) => clients.on(node.wsUrl, session);

  it('loses no durable event, and presence comes back, when Redis restarts empty while messages flow', async () => {
    if (!databaseUrl) throw new Error('unreachable: skipped without DATABASE_URL');
    database = await createScratchDatabase(databaseUrl, 'tether_redis_restart');
    // A Redis of the test's own: the shared one is never stopped.
    redis = await startRedisServer();
    const env = { DATABASE_URL: database.url, REDIS_URL: redis.url };
    const tokenSecret = randomBytes(32).toString('base64url');
    const first = await spawnServer({ env, tokenSecret });
    const second = await spawnServer({ env, tokenSecret });
    const nodes = [first, second];
    const sessions = await Promise.all(
      nodes.map((node, i) =>
        connect(node).trpc.auth.signUp.mutate({
          username: `r${i}-${randomBytes(3).toString('hex')}`,
          password: 'correct horse battery staple',
        }),
      ),
    );
    const writer = connect(first, sessions[0]);
    const other = connect(second, sessions[1]);
    const room = await writer.trpc.rooms.create.mutate({
      name: `redis-${randomUUID().slice(0, 8)}`,
      visibility: 'public',
    });
    await other.trpc.rooms.join.mutate({ roomId: room.id });

    const observers = nodes.flatMap((node, i) =>
      Array.from({ length: SUBSCRIBERS_PER_NODE }, () => observeRoom(connect(node, sessions[i]), room.id, '0')),
    );
    await Promise.all(observers.map((observer) => observer.live));
    // The second node's user watches presence; the first node's user has the room open.
    const presence = watchPresence(other, room.id);
    const bothHere = (p: Presence) => p.online.length === 2;
    writer.trpc.rooms.presence.subscribe({ roomId: room.id }, {});
    await presence.until(bothHere);

    // Messages sent from the first node, one at a time; Redis goes away halfway, and comes back (empty) after the
    // last: the second half rang no doorbell, and no later event follows it. Only the head check can tell.
    for (let i = 0; i < MESSAGES; i += 1) {
      await writer.trpc.messages.send.mutate({ roomId: room.id, body: `m${i}`, idempotencyKey: `${room.id}:${i}` });
      if (i === MESSAGES / 2) await redis.stop();
    }
    await redis.start();

    const auditor = observeRoom(connect(first, sessions[0]), room.id, '0');
    await auditor.live;
    const finalSeq = auditor.events.at(-1)?.seq ?? 0;
    expect(auditor.events.filter((event) => event.type === 'message.sent')).toHaveLength(MESSAGES);
    await Promise.all(observers.map((observer) => observer.untilSeq(finalSeq)));
    const expected = Array.from({ length: finalSeq }, (_, i) => i + 1);
    for (const observer of observers) {
      expect(observer.errors).toEqual([]);
      expect(gapsAndDuplicates(observer.events)).toEqual({ gaps: [], duplicates: [] });
      expect(observer.events.map((event) => event.seq)).toEqual(expected);
    }

    // Redis came back empty: each node wrote its users again, and a change shows both once more.
    await writer.trpc.rooms.typing.mutate({ roomId: room.id });
    await presence.until((p) => bothHere(p) && p.typing.some((user) => user.id === sessions[0]?.user.id));
  }, 60_000);
});
