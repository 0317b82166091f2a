import { randomBytes, randomUUID } from 'node:crypto';
import type { TetherClient } from '@tether/client';
import { type AuthSession, CloseCode, type Presence } from '@tether/protocol';
import { killAllServers, type ServerProcess, spawnServer } from '@tether/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchPresence } from '../helpers/presence-watcher';
import { gapsAndDuplicates, observeRoom } from '../helpers/room-observer';
import { createScratchDatabase, type ScratchDatabase } from '../helpers/scratch-database';
import { announceSkip, testEnv } from '../helpers/test-env';
import { clientFactory } from '../helpers/test-server';

const NODES = 3;
const SUBSCRIBERS_PER_NODE = 4;
const MESSAGES_PER_SENDER = 30;
/** The bound docs/ARCHITECTURE.md states for a dead process's users to leave presence (roster TTL + recheck). */
const PRESENCE_BOUND_MS = 15_000;

const { databaseUrl } = testEnv;
const redisUrl = process.env.REDIS_URL;
if (!databaseUrl || !redisUrl)
  announceSkip('several server processes on PostgreSQL and Redis', 'DATABASE_URL and REDIS_URL are both needed');

describe.skipIf(!databaseUrl || !redisUrl)('three server processes on one PostgreSQL and one Redis', () => {
  let database: ScratchDatabase;
  let nodes: ServerProcess[] = [];
  /** The first to sign up: the deployment's admin, who may make service tokens. */
  let admin: AuthSession;
  const clients = clientFactory(() => (nodes[0] as ServerProcess).wsUrl);
  const connect = (node: ServerProcess, session?: AuthSession) => clients.on(node.wsUrl, session);
  const signUp = async (node: ServerProcess, prefix: string) => {
    const anonymous = connect(node);
    return anonymous.trpc.auth.signUp.mutate({
      username: `${prefix}-${randomBytes(3).toString('hex')}`,
      password: 'correct horse battery staple',
    });
  };

  beforeAll(async () => {
    if (!databaseUrl || !redisUrl) throw new Error('unreachable: skipped without DATABASE_URL and REDIS_URL');
    database = await createScratchDatabase(databaseUrl, 'tether_cluster');
    // One secret for all: a token signed by one process is good on every other, as behind a load balancer.
    const tokenSecret = randomBytes(32).toString('base64url');
    // No recheck within the test: whatever reaches another node reached it over the bus, not through the store's
    // head check. The presence test below starts nodes of its own, with the recheck it needs.
    const env = { DATABASE_URL: database.url, REDIS_URL: redisUrl, TETHER_FANOUT_RECHECK_MS: '600000' };
    // The first migrates; the others start on a migrated database.
    nodes = [await spawnServer({ env, tokenSecret })];
    nodes.push(...(await Promise.all(Array.from({ length: NODES - 1 }, () => spawnServer({ env, tokenSecret })))));
    admin = await signUp(nodes[0] as ServerProcess, 'admin');
  });
  afterAll(async () => {
    await clients.disposeAll();
    await killAllServers();
    await database?.drop();
  });

  it('every subscriber on every node holds the same strictly increasing sequence while all nodes write to one room', async () => {
    const sessions = await Promise.all(nodes.map((node, i) => signUp(node, `writer${i}`)));
    const [owner, ...others] = sessions.map((session, i) => connect(nodes[i] as ServerProcess, session));
    const room = await (owner as TetherClient).trpc.rooms.create.mutate({
      name: `cluster-${randomUUID().slice(0, 8)}`,
      visibility: 'public',
    });
    await Promise.all(others.map((client) => client.trpc.rooms.join.mutate({ roomId: room.id })));

    const observers = nodes.flatMap((node, i) =>
      Array.from({ length: SUBSCRIBERS_PER_NODE }, () => ({
        node: i,
        observer: observeRoom(connect(node, sessions[i]), room.id, '0'),
      })),
    );
    await Promise.all(observers.map(({ observer }) => observer.live));

    // One writer per node, all at once, into the one room.
    const writers = [owner as TetherClient, ...others];
    await Promise.all(
      writers.map(async (client, writer) => {
        for (let i = 0; i < MESSAGES_PER_SENDER; i += 1) {
          await client.trpc.messages.send.mutate({
            roomId: room.id,
            body: `node ${writer} message ${i}`,
            idempotencyKey: `${room.id}:${writer}:${i}`,
          });
        }
      }),
    );
    // The store's own account of the room (its joins included): a fresh subscriber replays it all.
    const auditor = observeRoom(connect(nodes[0] as ServerProcess, sessions[0]), room.id, '0');
    await auditor.live;
    const total = auditor.events.at(-1)?.seq ?? 0;
    expect(auditor.events.filter((event) => event.type === 'message.sent')).toHaveLength(NODES * MESSAGES_PER_SENDER);
    await Promise.all(observers.map(({ observer }) => observer.untilSeq(total)));
    const expected = Array.from({ length: total }, (_, i) => i + 1);
    const first = observers[0]?.observer.events.map((event) => (event.type === 'message.sent' ? event.message.id : ''));
    for (const { observer } of observers) {
      expect(observer.errors).toEqual([]);
      expect(gapsAndDuplicates(observer.events)).toEqual({ gaps: [], duplicates: [] });
      expect(observer.events.map((event) => event.seq)).toEqual(expected);
      // The same messages at the same seqs on every node.
      expect(observer.events.map((event) => (event.type === 'message.sent' ? event.message.id : ''))).toEqual(first);
    }
    console.info(`[figures] ${observers.length} subscribers on ${NODES} nodes x ${total} events: 0 gaps, 0 duplicates`);
  });

  it("ends a service token's open socket on another node when it is revoked", async () => {
    const [nodeA, , nodeC] = nodes as [ServerProcess, ServerProcess, ServerProcess];
    const adminClient = connect(nodeA, admin);
    const room = await adminClient.trpc.rooms.create.mutate({
      name: `ops-${randomUUID().slice(0, 8)}`,
      visibility: 'private',
    });
    const created = await adminClient.trpc.tokens.create.mutate({
      name: `deploy-bot-${randomUUID().slice(0, 6)}`,
      scopes: ['messages:send'],
      roomIds: [room.id],
    });
    const bot = clients.connect({ url: nodeC.wsUrl, getToken: () => created.token });
    await bot.trpc.messages.send.mutate({ roomId: room.id, body: 'deployed', idempotencyKey: randomUUID() });

    const ended = bot.status.waitFor('reconnecting');
    await adminClient.trpc.tokens.revoke.mutate({ id: created.id });
    expect((await ended).lastCloseCode).toBe(CloseCode.Unauthorized);
  });

  it("shows presence across nodes, and a killed node's users leave it within the stated bound", async () => {
    const env = { DATABASE_URL: (database as ScratchDatabase).url, REDIS_URL: redisUrl as string };
    const tokenSecret = randomBytes(32).toString('base64url');
    const [stayNode, doomedNode] = await Promise.all([
      spawnServer({ env, tokenSecret }),
      spawnServer({ env, tokenSecret }),
    ]);
    const stayer = await signUp(stayNode, 'stayer');
    const doomed = await signUp(doomedNode, 'doomed');
    const stayerClient = connect(stayNode, stayer);
    const room = await stayerClient.trpc.rooms.create.mutate({
      name: `presence-${randomUUID().slice(0, 8)}`,
      visibility: 'public',
    });
    const doomedClient = connect(doomedNode, doomed);
    await doomedClient.trpc.rooms.join.mutate({ roomId: room.id });

    const view = watchPresence(stayerClient, room.id);
    const online = (p: Presence) => p.online.map((user) => user.username).sort();

    doomedClient.trpc.rooms.presence.subscribe({ roomId: room.id }, {});
    await view.until((p) => online(p).join() === [doomed.user.username, stayer.user.username].sort().join());
    await doomedClient.trpc.rooms.typing.mutate({ roomId: room.id });
    await view.until((p) => p.typing.some((user) => user.id === doomed.user.id));

    doomedNode.signal('SIGKILL');
    await doomedNode.exited;
    const killedAt = performance.now();
    await view.until((p) => online(p).join() === stayer.user.username && p.typing.length === 0);
    const goneAt = performance.now();
    expect(goneAt - killedAt).toBeLessThanOrEqual(PRESENCE_BOUND_MS);
    console.info(
      `[figures] a killed node's user left presence on the others after ${Math.round(goneAt - killedAt)} ms`,
    );
  }, 40_000);
});
