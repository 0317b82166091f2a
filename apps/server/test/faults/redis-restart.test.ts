import { randomBytes, randomUUID } from 'node:crypto';
import { type AuthSession, CloseCode, type Presence } from '@tether/protocol';
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
import { connectionParamsMessage, openRawSocket, type RawSocket } from '../helpers/raw-socket';
import { gapsAndDuplicates, observeRoom } from '../helpers/room-observer';
import { createScratchDatabase, type ScratchDatabase } from '../helpers/scratch-database';
import { announceSkip, testEnv } from '../helpers/test-env';
import { CURRENT_PROTOCOL_VERSION, clientFactory, httpClient } from '../helpers/test-server';

const SUBSCRIBERS_PER_NODE = 3;
const MESSAGES = 60;

const { databaseUrl } = testEnv;
const redisBinary = await redisServerBinary();
if (!databaseUrl) announceSkip('two server processes on a Redis of their own', 'DATABASE_URL is not set');
if (!redisBinary) announceSkip('two server processes on a Redis of their own', 'redis-server is not installed');

describe.skipIf(!databaseUrl || !redisBinary)('two server processes on a Redis of their own', () => {
  // Every client names the process it goes to.
  const clients = clientFactory(() => {
    throw new Error('a client here names its server: clients.on(url)');
  });
  const databases: ScratchDatabase[] = [];
  const redisServers: RedisServer[] = [];
  const sockets: RawSocket[] = [];
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await clients.disposeAll();
    await killAllServers();
    for (const redis of redisServers) await redis.stop();
    for (const database of databases) await database.drop();
  });
  const connect = (node: ServerProcess, session?: AuthSession) => clients.on(node.wsUrl, session);
  const signUp = (node: ServerProcess, prefix: string) =>
    connect(node).trpc.auth.signUp.mutate({
      username: `${prefix}-${randomBytes(3).toString('hex')}`,
      password: 'correct horse battery staple',
    });

  /** Two processes on a database and a Redis of their own (the shared Redis is never stopped). */
  async function twoNodes(name: string, extraEnv: Record<string, string> = {}) {
    if (!databaseUrl) throw new Error('unreachable: skipped without DATABASE_URL');
    const database = await createScratchDatabase(databaseUrl, name);
    databases.push(database);
    const redis = await startRedisServer();
    redisServers.push(redis);
    const env = { DATABASE_URL: database.url, REDIS_URL: redis.url, ...extraEnv };
    const tokenSecret = randomBytes(32).toString('base64url');
    const first = await spawnServer({ env, tokenSecret });
    const second = await spawnServer({ env, tokenSecret });
    return { redis, first, second };
  }

  it('loses no durable event, and presence comes back, when Redis restarts empty while messages flow', async () => {
    const { redis, first, second } = await twoNodes('tether_redis_restart');
    const nodes = [first, second];
    const sessions = await Promise.all(nodes.map((node, i) => signUp(node, `r${i}`)));
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
    // With Redis down, presence goes on with what it knows: a newcomer on the second process shows there, beside
    // the first process's user as that process last said.
    const newcomer = await signUp(second, 'newcomer');
    const newcomerClient = connect(second, newcomer);
    await newcomerClient.trpc.rooms.join.mutate({ roomId: room.id });
    newcomerClient.trpc.rooms.presence.subscribe({ roomId: room.id }, {});
    const allThree = (p: Presence) => p.online.length === 3;
    await presence.until(allThree);
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

    // Redis came back empty: each node wrote its users again, and a change on the first shows on the second.
    await writer.trpc.rooms.typing.mutate({ roomId: room.id });
    await presence.until((p) => allThree(p) && p.typing.some((user) => user.id === sessions[0]?.user.id));
  }, 60_000);

  it('ends sessions on the other process when they are revoked while Redis is down', async () => {
    // A short recheck, so the test need not wait the default 3 s: with Redis down, only the log in the store can tell.
    const { redis, first, second } = await twoNodes('tether_redis_down', { TETHER_FANOUT_RECHECK_MS: '200' });
    const admin = await signUp(first, 'admin');
    const adminClient = connect(first, admin);
    const room = await adminClient.trpc.rooms.create.mutate({
      name: `ops-${randomUUID().slice(0, 8)}`,
      visibility: 'private',
    });
    const token = await adminClient.trpc.tokens.create.mutate({
      name: `bot-${randomUUID().slice(0, 6)}`,
      scopes: ['messages:send'],
      roomIds: [room.id],
    });
    // On the second process: a bot with the service token, and a person signed in on the first.
    const bot = clients.connect({ url: second.wsUrl, getToken: () => token.token });
    await bot.trpc.messages.send.mutate({ roomId: room.id, body: 'deployed', idempotencyKey: randomUUID() });
    const person = await signUp(first, 'person');
    const personClient = connect(second, person);
    await personClient.trpc.auth.me.query();

    await redis.stop();
    const botEnded = bot.status.waitFor('reconnecting');
    const personEnded = personClient.status.waitFor('reconnecting');
    await adminClient.trpc.tokens.revoke.mutate({ id: token.id });
    await connect(first).trpc.auth.signOut.mutate({ refreshToken: person.refreshToken });
    expect((await botEnded).lastCloseCode).toBe(CloseCode.Unauthorized);
    expect((await personEnded).lastCloseCode).toBe(CloseCode.Unauthorized);
    // Nor does the sign-in come back there: that process had found it alive moments ago, and would trust that for
    // a while had the log not told it otherwise.
    const again = connect(second, person);
    const refused = again.status.waitFor('reconnecting');
    void again.trpc.auth.me.query().catch(() => {});
    expect((await refused).lastCloseCode).toBe(CloseCode.Unauthorized);
  }, 60_000);

  it('counts sign-in attempts from one address over both processes, and per process while Redis is down', async () => {
    const perMinute = 4;
    const { redis, first, second } = await twoNodes('tether_sign_in_limits', {
      TETHER_SIGN_INS_PER_MINUTE: String(perMinute),
    });
    const credentials = {
      username: `limited-${randomBytes(3).toString('hex')}`,
      password: 'correct horse battery staple',
    };
    const [onFirst, onSecond] = [connect(first), connect(second)];
    await onFirst.trpc.auth.signUp.mutate(credentials);
    await onSecond.trpc.auth.signIn.mutate(credentials);
    await onFirst.trpc.auth.signIn.mutate(credentials);
    await onSecond.trpc.auth.signIn.mutate(credentials);
    // Two attempts on each process: the address has had its four, wherever it goes next.
    await expect(onFirst.trpc.auth.signIn.mutate(credentials)).rejects.toMatchObject({
      data: { code: 'TOO_MANY_REQUESTS' },
    });
    await expect(onSecond.trpc.auth.signIn.mutate(credentials)).rejects.toMatchObject({
      data: { code: 'TOO_MANY_REQUESTS' },
    });

    // Without Redis each process counts on its own: the limit loosens by the number of processes, and still holds.
    await redis.stop();
    for (let i = 0; i < perMinute; i += 1) await onFirst.trpc.auth.signIn.mutate(credentials);
    await expect(onFirst.trpc.auth.signIn.mutate(credentials)).rejects.toMatchObject({
      data: { code: 'TOO_MANY_REQUESTS' },
    });
  }, 60_000);

  it('caps one user’s connections and subscriptions over both processes, and per process while Redis is down', async () => {
    const { redis, first, second } = await twoNodes('tether_principal_caps', {
      TETHER_MAX_CONNECTIONS_PER_PRINCIPAL: '3',
      TETHER_MAX_SUBSCRIPTIONS_PER_PRINCIPAL: '4',
    });
    const user = await signUp(first, 'capped');
    // Over HTTP, which holds no connection open.
    const room = await httpClient(first.url, user.accessToken).rooms.create.mutate({
      name: `caps-${randomUUID().slice(0, 8)}`,
      visibility: 'public',
    });
    /** A raw socket signed in as the user (its first call answered), or closed by a refusal. */
    /** Calls sent with the sign-in are answered right after it, while the counts it read are fresh. */
    const signedIn = async (node: ServerProcess, withCalls: (socket: RawSocket) => void = () => {}) => {
      const socket = await openRawSocket(`${node.wsUrl}?connectionParams=1`);
      sockets.push(socket);
      socket.send(connectionParamsMessage({ protocolVersion: CURRENT_PROTOCOL_VERSION, token: user.accessToken }));
      withCalls(socket);
      socket.send({ id: 0, method: 'query', params: { path: 'connection.health', input: { json: null } } });
      const answer = await Promise.race([socket.waitForMessage((m) => m.id === 0), socket.waitForClose()]);
      if ('result' in answer) return { socket, closeCode: undefined };
      return { socket, closeCode: (await socket.waitForClose()).code };
    };
    const subscription = (id: number) => ({
      id,
      method: 'subscription',
      params: { path: 'rooms.events', input: { json: { roomId: room.id } } },
    });
    const answerTo = async (socket: RawSocket, id: number) => {
      const answer = await socket.waitForMessage((m) => m.id === id);
      const error = answer.error as { json?: { data?: { code?: string } } } | undefined;
      return error?.json?.data?.code ?? (answer.result as { type?: string }).type;
    };
    const subscribe = (socket: RawSocket, id: number) => {
      socket.send(subscription(id));
      return answerTo(socket, id);
    };

    // Two connections and three subscriptions on the first process...
    const [a, b] = [await signedIn(first), await signedIn(first)];
    for (const id of [1, 2, 3]) expect(await subscribe(a.socket, id)).toBe('started');
    // ...leave the second process room for one more of each.
    const c = await signedIn(second, (socket) => {
      socket.send(subscription(1));
      socket.send(subscription(2));
    });
    expect(c.closeCode).toBeUndefined();
    expect(await answerTo(c.socket, 1)).toBe('started');
    expect(await answerTo(c.socket, 2)).toBe('TOO_MANY_REQUESTS');
    expect((await signedIn(second)).closeCode).toBe(CloseCode.TryAgainLater);
    expect((await signedIn(first)).closeCode).toBe(CloseCode.TryAgainLater);

    // A connection closed on one process frees its slot on the other, once that process has let go of it
    // (each attempt until then is refused, and a refusal holds nothing).
    b.socket.close();
    let attempts = 1;
    while ((await signedIn(second)).closeCode === CloseCode.TryAgainLater) {
      attempts += 1;
      expect(attempts).toBeLessThan(50);
    }

    // Without Redis each process counts its own: the second holds two of the user's connections and takes one more.
    await redis.stop();
    expect((await signedIn(second)).closeCode).toBeUndefined();
    expect((await signedIn(second)).closeCode).toBe(CloseCode.TryAgainLater);
  }, 60_000);
});
