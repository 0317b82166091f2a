import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { type AppRouter, CloseCode, LIMITS } from '@tether/protocol';
import { killAllServers, type ServerProcess, spawnServer } from '@tether/testing';
import type { TRPCClientError } from '@trpc/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectionParamsMessage, openRawSocket, type RawSocket } from '../helpers/raw-socket';
import { openSse, sseError } from '../helpers/sse';
import { CURRENT_PROTOCOL_VERSION, httpClient } from '../helpers/test-server';

/** Small limits, so each is reached in a few calls; a second address (127.0.0.4) checks the per-address cap. */
const LIMITS_UNDER_TEST = {
  TETHER_MAX_SUBSCRIPTIONS_PER_PRINCIPAL: '4',
  TETHER_MAX_CONNECTIONS_PER_PRINCIPAL: '3',
  TETHER_MAX_CONNECTIONS_PER_ADDRESS: '10',
  TETHER_MAX_SOCKETS_PER_ADDRESS: '50',
};
const CROWDED_ADDRESS = '127.0.0.3';
const OTHER_ADDRESS = '127.0.0.4';
/** Holds idle sockets up to the cap. */
const IDLE_ADDRESS = '127.0.0.5';

let server: ServerProcess;
const sockets: RawSocket[] = [];
const streams: Array<{ close(): void }> = [];

beforeAll(async () => {
  server = await spawnServer({ env: LIMITS_UNDER_TEST });
  // The first to sign up administers the server (service tokens).
  await signUp('admin');
});
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
  for (const stream of streams.splice(0)) stream.close();
});
afterAll(() => killAllServers());

const http = (token?: string) => httpClient(server.url, token);

const admins: Array<{ accessToken: string }> = [];
async function signUp(prefix: string) {
  const session = await http().auth.signUp.mutate({
    username: `${prefix}-${randomUUID().slice(0, 8)}`,
    password: 'a long password',
  });
  if (prefix === 'admin') admins.push(session);
  return session;
}

async function ws(token: string | undefined, options: { localAddress?: string } = {}): Promise<RawSocket> {
  const socket = await openRawSocket(`${server.wsUrl}?connectionParams=1`, options);
  sockets.push(socket);
  socket.send(connectionParamsMessage({ protocolVersion: CURRENT_PROTOCOL_VERSION, ...(token ? { token } : {}) }));
  return socket;
}

async function subscribe(socket: RawSocket, id: number, path: string, input: unknown) {
  socket.send({ id, method: 'subscription', params: { path, input: { json: input } } });
  return socket.waitForMessage((m) => m.id === id);
}

async function sse(path: string, input: unknown, token: string) {
  const stream = await openSse(server.url, path, input, { token });
  streams.push(stream);
  return stream;
}

const resultType = (message: Record<string, unknown>) => (message.result as { type?: string } | undefined)?.type;
const errorCode = (message: Record<string, unknown>) =>
  (message.error as { json?: { data?: { code?: string } } } | undefined)?.json?.data?.code;

async function publicRoom(token: string) {
  return http(token).rooms.create.mutate({ name: `r-${randomUUID().slice(0, 8)}`, visibility: 'public' });
}

describe('limits on parsed calls', () => {
  it('counts a call whose key is spelled with an escape, so one frame cannot carry a flood', async () => {
    const socket = await ws(undefined);
    const call = (id: number) => `{"id":${id},"\\u006dethod":"query","params":{"path":"connection.health"}}`;
    // 300 calls in one frame: over the burst (250) once each escaped key is counted as the call it is.
    socket.sendRaw(`[${Array.from({ length: 300 }, (_, i) => call(i + 1)).join(',')}]`);
    expect((await socket.waitForClose()).code).toBe(CloseCode.RateLimited);
  });

  it('answers every call of a frame over the per-frame limit with BAD_REQUEST, and keeps the connection', async () => {
    const socket = await ws(undefined);
    const calls = Array.from({ length: 201 }, (_, i) => ({
      id: i + 1,
      method: 'query',
      params: { path: 'connection.health', input: { json: null } },
    }));
    socket.send(calls);
    const first = await socket.waitForMessage((m) => m.id === 1);
    const last = await socket.waitForMessage((m) => m.id === 201);
    expect([errorCode(first), errorCode(last)]).toEqual(['BAD_REQUEST', 'BAD_REQUEST']);
    socket.send({ id: 500, method: 'query', params: { path: 'connection.health', input: { json: null } } });
    expect(resultType(await socket.waitForMessage((m) => m.id === 500))).toBe('data');
  });
});

describe('hostile input', () => {
  it('answers a procedure path that is not valid URL encoding with 400, and keeps serving', async () => {
    const response = await fetch(`${server.url}/trpc/%E0%A4%A`);
    expect(response.status).toBe(400);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('closes 4400 a connection that keeps sending frames that are not calls, each answered until then', async () => {
    const socket = await ws(undefined);
    for (let i = 0; i < 10; i += 1) socket.sendRaw('not json');
    for (let i = 0; i < 10; i += 1)
      expect(errorCode(await socket.waitForMessage((m) => 'error' in m))).toBe('PARSE_ERROR');
    socket.sendRaw('not json');
    expect((await socket.waitForClose()).code).toBe(CloseCode.BadFrames);
  });

  it('closes 4400 a connection that keeps sending calls without an id, which no answer can reach', async () => {
    const socket = await ws(undefined);
    const call = { id: null, method: 'query', params: { path: 'connection.health', input: { json: null } } };
    for (let i = 0; i < 10; i += 1) socket.send(call);
    for (let i = 0; i < 10; i += 1)
      expect(errorCode(await socket.waitForMessage((m) => 'error' in m))).toBe('PARSE_ERROR');
    socket.send(call);
    expect((await socket.waitForClose()).code).toBe(CloseCode.BadFrames);
  });

  it('counts heartbeat pings against the rate limit, so they cannot flood either', async () => {
    const socket = await ws(undefined);
    for (let i = 0; i < 300; i += 1) socket.sendRaw('PING');
    expect((await socket.waitForClose()).code).toBe(CloseCode.RateLimited);
  });

  it('refuses request ids that are not short strings or safe integers', async () => {
    const socket = await ws(undefined);
    socket.send({ id: 'x'.repeat(129), method: 'query', params: { path: 'connection.health', input: { json: null } } });
    const refused = await socket.waitForMessage((m) => 'error' in m);
    expect([refused.id, errorCode(refused)]).toEqual([null, 'PARSE_ERROR']);
    socket.send({ id: 'x'.repeat(128), method: 'query', params: { path: 'connection.health', input: { json: null } } });
    expect(resultType(await socket.waitForMessage((m) => m.id === 'x'.repeat(128)))).toBe('data');
  });
});

describe('limits that hold across WebSocket and SSE', () => {
  it('counts one principal’s subscriptions over both transports', async () => {
    const user = await signUp('subscriber');
    const room = await publicRoom(user.accessToken);
    const socket = await ws(user.accessToken);
    for (const id of [1, 2, 3]) {
      expect(resultType(await subscribe(socket, id, 'rooms.events', { roomId: room.id }))).toBe('started');
    }
    const fourth = await sse('rooms.events', { roomId: room.id }, user.accessToken);
    expect(fourth.status).toBe(200);
    expect((await fourth.next((e) => e.event === 'message')).id).toBeDefined();

    // Refused as tRPC's own server refuses a stream: it opens and ends at once with a typed error.
    const fifth = await sse('rooms.events', { roomId: room.id }, user.accessToken);
    expect(sseError(await fifth.next((e) => e.event === 'serialized-error')).data.code).toBe('TOO_MANY_REQUESTS');
    // The same procedure behind a trailing slash is the same stream, under the same limit.
    const slashed = await openSse(server.url, 'rooms.events/', { roomId: room.id }, { token: user.accessToken });
    streams.push(slashed);
    expect(sseError(await slashed.next((e) => e.event === 'serialized-error')).data.code).toBe('TOO_MANY_REQUESTS');
    expect(errorCode(await subscribe(socket, 4, 'rooms.events', { roomId: room.id }))).toBe('TOO_MANY_REQUESTS');

    socket.send({ id: 9, method: 'query', params: { path: 'connection.health', input: { json: null } } });
    const health = await socket.waitForMessage((m) => m.id === 9);
    const counts = (health.result as { data: { json: { connections: number; subscriptions: number } } }).data.json;
    // The SSE stream is a connection with a subscription like any other.
    expect(counts.subscriptions).toBeGreaterThanOrEqual(4);
    expect(counts.connections).toBeGreaterThanOrEqual(2);

    // Stopping one frees its slot for the other transport.
    socket.send({ id: 1, method: 'subscription.stop' });
    await socket.waitForMessage((m) => m.id === 1 && resultType(m) === 'stopped');
    expect((await sse('rooms.events', { roomId: room.id }, user.accessToken)).status).toBe(200);
  });

  it('counts one principal’s connections over both transports', async () => {
    const user = await signUp('connector');
    const room = await publicRoom(user.accessToken);
    const open = [await ws(user.accessToken), await ws(user.accessToken)];
    for (const socket of open) {
      socket.send({ id: 1, method: 'query', params: { path: 'connection.health', input: { json: null } } });
      await socket.waitForMessage((m) => m.id === 1);
    }
    expect((await sse('rooms.events', { roomId: room.id }, user.accessToken)).status).toBe(200);
    const refusedSse = await sse('rooms.events', { roomId: room.id }, user.accessToken);
    const refusal = sseError(await refusedSse.next((e) => e.event === 'serialized-error'));
    expect(refusal.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', closeCode: CloseCode.TryAgainLater });
    const refusedWs = await ws(user.accessToken);
    expect((await refusedWs.waitForClose()).code).toBe(CloseCode.TryAgainLater);
  });

  it('caps open sockets per address, idle ones too, and another address is still served', async () => {
    const idle: Socket[] = [];
    const openIdle = () =>
      new Promise<Socket>((resolve, reject) => {
        const socket = connect({
          host: '127.0.0.1',
          port: Number(new URL(server.url).port),
          localAddress: IDLE_ADDRESS,
        });
        idle.push(socket);
        socket.once('connect', () => resolve(socket));
        socket.once('error', reject);
      });
    try {
      for (let i = 0; i < 50; i += 1) await openIdle();
      // The 51st is closed at once, before it says anything.
      const refused = await openIdle();
      await once(refused, 'close');
      expect(idle.slice(0, 50).every((socket) => !socket.destroyed)).toBe(true);
      const neighbour = await new Promise<number | undefined>((resolve, reject) => {
        get(`${server.url}/healthz`, { localAddress: OTHER_ADDRESS }, (response) => {
          response.resume();
          resolve(response.statusCode);
        }).once('error', reject);
      });
      expect(neighbour).toBe(200);
    } finally {
      for (const socket of idle) socket.destroy();
    }
  });

  it('caps connections per remote address, and another address is still served', async () => {
    const crowd: RawSocket[] = [];
    for (let i = 0; i < 10; i += 1) crowd.push(await ws(undefined, { localAddress: CROWDED_ADDRESS }));
    crowd[9]?.send({ id: 1, method: 'query', params: { path: 'connection.health', input: { json: null } } });
    await crowd[9]?.waitForMessage((m) => m.id === 1);
    const refused = await ws(undefined, { localAddress: CROWDED_ADDRESS });
    expect((await refused.waitForClose()).code).toBe(CloseCode.TryAgainLater);

    const neighbour = await ws(undefined, { localAddress: OTHER_ADDRESS });
    neighbour.send({ id: 1, method: 'query', params: { path: 'connection.health', input: { json: null } } });
    expect(resultType(await neighbour.waitForMessage((m) => m.id === 1))).toBe('data');
  });
});

describe('sessions that end when their authority ends', () => {
  it('a revoked service token ends its open WebSocket and SSE sessions at once', async () => {
    const admin = admins[0] as { accessToken: string };
    const room = await publicRoom(admin.accessToken);
    const created = await http(admin.accessToken).tokens.create.mutate({
      name: `bot-${randomUUID().slice(0, 6)}`,
      scopes: ['messages:read'],
      roomIds: [room.id],
    });
    const socket = await ws(created.token);
    expect(resultType(await subscribe(socket, 1, 'rooms.events', { roomId: room.id }))).toBe('started');
    const stream = await sse('rooms.events', { roomId: room.id }, created.token);
    await stream.next((e) => e.event === 'message');

    await http(admin.accessToken).tokens.revoke.mutate({ id: created.id });
    expect((await socket.waitForClose()).code).toBe(CloseCode.Unauthorized);
    const ended = sseError(await stream.next((e) => e.event === 'serialized-error'));
    expect(ended.data).toMatchObject({ code: 'UNAUTHORIZED', closeCode: CloseCode.Unauthorized });
    await stream.ended;
  });

  it('signing out ends that sign-in’s open sessions, and its access token opens no new one', async () => {
    const user = await signUp('leaver');
    const room = await publicRoom(user.accessToken);
    const socket = await ws(user.accessToken);
    expect(resultType(await subscribe(socket, 1, 'rooms.events', { roomId: room.id }))).toBe('started');
    const stream = await sse('rooms.events', { roomId: room.id }, user.accessToken);
    await stream.next((e) => e.event === 'message');

    await http().auth.signOut.mutate({ refreshToken: user.refreshToken });
    expect((await socket.waitForClose()).code).toBe(CloseCode.Unauthorized);
    expect(sseError(await stream.next((e) => e.event === 'serialized-error')).data.closeCode).toBe(
      CloseCode.Unauthorized,
    );
    const refused = await http(user.accessToken)
      .auth.me.query()
      .catch((error: TRPCClientError<AppRouter>) => error.data?.code);
    expect(refused).toBe('UNAUTHORIZED');
  });

  it('leaving a private room ends its events and presence streams on both transports, and typing is refused', async () => {
    const owner = await signUp('owner');
    const guest = await signUp('guest');
    const room = await http(owner.accessToken).rooms.create.mutate({
      name: `p-${randomUUID().slice(0, 8)}`,
      visibility: 'private',
    });
    await http(owner.accessToken).rooms.invite.mutate({ roomId: room.id, username: guest.user.username });
    const socket = await ws(guest.accessToken);
    expect(resultType(await subscribe(socket, 1, 'rooms.events', { roomId: room.id }))).toBe('started');
    expect(resultType(await subscribe(socket, 2, 'rooms.presence', { roomId: room.id }))).toBe('started');
    const stream = await sse('rooms.events', { roomId: room.id }, guest.accessToken);
    await stream.next((e) => e.event === 'message');

    await http(guest.accessToken).rooms.leave.mutate({ roomId: room.id });
    expect(errorCode(await socket.waitForMessage((m) => m.id === 1 && 'error' in m))).toBe('FORBIDDEN');
    expect(errorCode(await socket.waitForMessage((m) => m.id === 2 && 'error' in m))).toBe('FORBIDDEN');
    expect(sseError(await stream.next((e) => e.event === 'serialized-error')).data.code).toBe('FORBIDDEN');
    const typing = await http(guest.accessToken)
      .rooms.typing.mutate({ roomId: room.id })
      .catch((error: TRPCClientError<AppRouter>) => error.data?.code);
    expect(typing).toBe('FORBIDDEN');
  });
});

describe('an SSE reader that stops reading', () => {
  const SEND_BUFFER_CAP = 64 * 1024;
  let slowServer: ServerProcess;

  beforeAll(async () => {
    slowServer = await spawnServer({
      env: { TETHER_SEND_BUFFER_BYTES: String(SEND_BUFFER_CAP), TETHER_HTTP_RATE_BURST: '100000' },
    });
  });

  it('is ended as a slow consumer while the memory held for it stays bounded', async () => {
    const api = (token?: string) => httpClient(slowServer.url, token);
    const user = await api().auth.signUp.mutate({
      username: `flood-${randomUUID().slice(0, 6)}`,
      password: 'a long password',
    });
    const room = await api(user.accessToken).rooms.create.mutate({
      name: `f-${randomUUID().slice(0, 6)}`,
      visibility: 'public',
    });
    // ~8 MiB of history: more than the kernel's socket buffers hold for a reader that reads nothing.
    const body = 'x'.repeat(LIMITS.messageBodyMax - 100);
    for (let batch = 0; batch < 20; batch += 1) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          api(user.accessToken).messages.send.mutate({
            roomId: room.id,
            body,
            idempotencyKey: `k-${batch}-${i}-${room.id}`,
          }),
        ),
      );
    }
    const stream = await openSse(
      slowServer.url,
      'rooms.events',
      { roomId: room.id },
      { token: user.accessToken, lastEventId: '0' },
    );
    stream.response.pause();
    const cut = await slowServer.waitForLog(
      (line) =>
        line.event === 'session.limit_exceeded' && line.transport === 'sse' && line.code === CloseCode.SlowConsumer,
    );
    // Cut once its queue passed the cap: at most the cap and the event that crossed it.
    expect(cut.bufferedBytes).toBeLessThanOrEqual(SEND_BUFFER_CAP + 2 * LIMITS.messageBodyMax);
    stream.response.resume();
    await stream.ended;
    const health = await api().connection.health.query();
    expect(health.connections).toBe(0);
    expect(health.sendBufferBytes).toBe(0);
  });
});
