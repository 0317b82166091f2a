import { randomBytes, randomUUID } from 'node:crypto';
import {
  type AppRouter,
  PROTOCOL_VERSION,
  type RoomEvent,
  type RoomStreamItem,
  type RoomSynced,
} from '@tether/protocol';
import type { TRPCClientError } from '@trpc/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAccessTokens } from '../src/chat/access-tokens';
import { expectTrpcError } from './helpers/expect-error';
import { clientFactory, signUpUser, startTestServer, type TestServer } from './helpers/test-server';

let server: TestServer;
const clients = clientFactory(() => server.wsUrl);
const key = () => `k-${randomUUID()}`;

beforeAll(async () => {
  server = await startTestServer();
});
afterEach(() => clients.disposeAll());
afterAll(() => server.dispose());

/**
 * Collects a subscription's durable events; `until(n)` resolves once n have
 * arrived, `synced` once the subscription reports it is live.
 */
function collect() {
  const events: RoomEvent[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  let markSynced: (marker: RoomSynced) => void = () => {};
  const synced = new Promise<RoomSynced>((resolve) => {
    markSynced = resolve;
  });
  return {
    events,
    synced,
    onData({ data }: { id: string; data: RoomStreamItem }) {
      if (data.type === 'synced') return markSynced(data);
      events.push(data);
      for (const waiter of waiters.filter((w) => events.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    },
    until(count: number): Promise<RoomEvent[]> {
      if (events.length >= count) return Promise.resolve(events);
      return new Promise((resolve) => waiters.push({ count, resolve: () => resolve(events) }));
    },
  };
}

describe('chat over WebSocket', () => {
  it('delivers messages sent by one user to another subscribed user, with superjson dates', async () => {
    const alice = await signUpUser(clients, 'alice');
    const bob = await signUpUser(clients, 'bob');
    const room = await alice.client.trpc.rooms.create.mutate({
      name: `r-${randomBytes(4).toString('hex')}`,
      visibility: 'public',
    });
    await bob.client.trpc.rooms.join.mutate({ roomId: room.id });

    const received = collect();
    bob.client.trpc.rooms.events.subscribe({ roomId: room.id }, { onData: received.onData });
    expect(await received.synced).toMatchObject({ seq: room.lastSeq + 1 });
    const sent = await alice.client.trpc.messages.send.mutate({
      roomId: room.id,
      body: 'hello bob',
      idempotencyKey: key(),
    });
    const [event] = await received.until(1);
    expect(event).toMatchObject({ type: 'message.sent', seq: sent.seq, message: { body: 'hello bob', id: sent.id } });
    // Dates survive the wire as Dates (superjson), and the event repeats nothing its message says.
    expect(event?.type === 'message.sent' && event.message.createdAt).toBeInstanceOf(Date);
    expect(event).not.toHaveProperty('roomId');
    expect(sent.createdAt).toBeInstanceOf(Date);
  });

  it('keeps private rooms from non-members: no reading, sending or subscribing', async () => {
    const owner = await signUpUser(clients, 'owner');
    const outsider = await signUpUser(clients, 'outsider');
    const room = await owner.client.trpc.rooms.create.mutate({
      name: `p-${randomBytes(4).toString('hex')}`,
      visibility: 'private',
    });

    const listed = await outsider.client.trpc.rooms.list.query();
    expect(listed.rooms.map((r) => r.id)).not.toContain(room.id);
    const directory = await outsider.client.trpc.rooms.directory.query({ name: room.name });
    expect(directory.rooms).toEqual([]);
    await expectTrpcError(outsider.client.trpc.rooms.find.query({ name: room.name }), 'NOT_FOUND');
    await expectTrpcError(outsider.client.trpc.rooms.get.query({ roomId: room.id }), 'FORBIDDEN');
    await expectTrpcError(outsider.client.trpc.messages.list.query({ roomId: room.id }), 'FORBIDDEN');
    await expectTrpcError(outsider.client.trpc.rooms.members.query({ roomId: room.id }), 'FORBIDDEN');
    await expectTrpcError(outsider.client.trpc.rooms.join.mutate({ roomId: room.id }), 'FORBIDDEN');
    await expectTrpcError(
      outsider.client.trpc.messages.send.mutate({ roomId: room.id, body: 'let me in', idempotencyKey: key() }),
      'FORBIDDEN',
    );
    const subscriptionError = new Promise<unknown>((resolve) => {
      outsider.client.trpc.rooms.events.subscribe({ roomId: room.id }, { onError: resolve });
    });
    expect(((await subscriptionError) as TRPCClientError<AppRouter>).data?.code).toBe('FORBIDDEN');

    // An invitation makes the outsider a member with full access.
    await owner.client.trpc.rooms.invite.mutate({ roomId: room.id, username: outsider.session.user.username });
    const members = await outsider.client.trpc.rooms.members.query({ roomId: room.id });
    expect(members.map((m) => m.user.username).sort()).toEqual(
      [owner.session.user.username, outsider.session.user.username].sort(),
    );
    await outsider.client.trpc.messages.send.mutate({ roomId: room.id, body: 'thanks', idempotencyKey: key() });
  });

  it('resumes with lastEventId after a disconnect: the missed events exactly once, in order', async () => {
    const alice = await signUpUser(clients, 'alice');
    const room = await alice.client.trpc.rooms.create.mutate({
      name: `r-${randomBytes(4).toString('hex')}`,
      visibility: 'public',
    });
    for (const body of ['one', 'two']) {
      await alice.client.trpc.messages.send.mutate({ roomId: room.id, body, idempotencyKey: key() });
    }
    const reader = await signUpUser(clients, 'reader');
    const first = collect();
    reader.client.trpc.rooms.events.subscribe({ roomId: room.id, lastEventId: '0' }, { onData: first.onData });
    const seen = await first.until(3);
    expect((await first.synced).seq).toBe(3);
    const lastEventId = String(seen.at(-1)?.seq);
    await reader.client.dispose();

    for (const body of ['three', 'four', 'five']) {
      await alice.client.trpc.messages.send.mutate({ roomId: room.id, body, idempotencyKey: key() });
    }
    const again = clients.connect({ getToken: () => reader.session.accessToken });
    const resumed = collect();
    again.trpc.rooms.events.subscribe({ roomId: room.id, lastEventId }, { onData: resumed.onData });
    const missed = await resumed.until(3);
    expect(missed.map((e) => (e.type === 'message.sent' ? e.message.body : e.type))).toEqual(['three', 'four', 'five']);
    expect(missed.map((e) => e.seq)).toEqual([4, 5, 6]);
  });

  it('ends a private-room subscription with FORBIDDEN when the subscriber leaves', async () => {
    const owner = await signUpUser(clients, 'owner');
    const guest = await signUpUser(clients, 'guest');
    const room = await owner.client.trpc.rooms.create.mutate({
      name: `p-${randomBytes(4).toString('hex')}`,
      visibility: 'private',
    });
    await owner.client.trpc.rooms.invite.mutate({ roomId: room.id, username: guest.session.user.username });
    const received = collect();
    const ended = new Promise<unknown>((resolve) => {
      guest.client.trpc.rooms.events.subscribe({ roomId: room.id }, { onData: received.onData, onError: resolve });
    });
    await received.synced;
    await guest.client.trpc.rooms.leave.mutate({ roomId: room.id });
    expect(((await ended) as TRPCClientError<AppRouter>).data?.code).toBe('FORBIDDEN');
    await owner.client.trpc.messages.send.mutate({
      roomId: room.id,
      body: 'after the guest left',
      idempotencyKey: key(),
    });
    expect(received.events.map((e) => e.type)).toEqual(['member.left']);
  });

  it('answers a lastEventId beyond the seq range with BAD_REQUEST', async () => {
    const alice = await signUpUser(clients, 'alice');
    const room = await alice.client.trpc.rooms.create.mutate({
      name: `r-${randomBytes(4).toString('hex')}`,
      visibility: 'public',
    });
    const failed = new Promise<unknown>((resolve) => {
      alice.client.trpc.rooms.events.subscribe({ roomId: room.id, lastEventId: '99999999999' }, { onError: resolve });
    });
    const error = (await failed) as TRPCClientError<AppRouter>;
    expect(error.data?.code).toBe('BAD_REQUEST');
    expect(error.data?.zodIssues?.[0]?.path).toEqual(['lastEventId']);
  });

  it("answers a lastEventId past the room's head with CONFLICT and the head, to resynchronise", async () => {
    const alice = await signUpUser(clients, 'alice');
    const room = await alice.client.trpc.rooms.create.mutate({
      name: `r-${randomBytes(4).toString('hex')}`,
      visibility: 'public',
    });
    // The room's head is 1 (alice joined); 5 is what a client that saw a database since reset would hold.
    const failed = new Promise<unknown>((resolve) => {
      alice.client.trpc.rooms.events.subscribe({ roomId: room.id, lastEventId: '5' }, { onError: resolve });
    });
    const error = (await failed) as TRPCClientError<AppRouter>;
    expect(error.data?.code).toBe('CONFLICT');
    expect(error.data?.resyncHeadSeq).toBe(room.lastSeq);
    // At the head itself it resumes as usual.
    const synced = new Promise<unknown>((resolve) => {
      alice.client.trpc.rooms.events.subscribe(
        { roomId: room.id, lastEventId: String(room.lastSeq) },
        { onData: ({ data }) => data.type === 'synced' && resolve(data) },
      );
    });
    expect(await synced).toMatchObject({ type: 'synced', seq: room.lastSeq });
  });

  it('answers invalid input with BAD_REQUEST and the zod issues', async () => {
    const alice = await signUpUser(clients, 'alice');
    const error = await expectTrpcError(
      alice.client.trpc.rooms.create.mutate({ name: 'has spaces!', visibility: 'public' }),
      'BAD_REQUEST',
    );
    expect(error.data?.zodIssues).toEqual([
      expect.objectContaining({ path: ['name'], message: expect.stringContaining('room name may contain only') }),
    ]);
    const tooLong = await expectTrpcError(
      alice.client.trpc.auth.signUp.mutate({ username: 'x', password: 'short' }),
      'BAD_REQUEST',
    );
    expect(tooLong.data?.zodIssues?.map((issue) => issue.path[0]).sort()).toEqual(['password', 'username']);
  });

  it('refuses calls that need a principal from an anonymous connection', async () => {
    const anonymous = clients.connect();
    await expectTrpcError(anonymous.trpc.auth.me.query(), 'UNAUTHORIZED');
  });

  it('signs in, refreshes, and reports the signed-in user', async () => {
    const alice = await signUpUser(clients, 'alice');
    const anonymous = clients.connect();
    const signedIn = await anonymous.trpc.auth.signIn.mutate({
      username: alice.session.user.username,
      password: 'correct horse battery staple',
    });
    const refreshed = await anonymous.trpc.auth.refresh.mutate({ refreshToken: signedIn.refreshToken });
    const client = clients.connect({ getToken: () => refreshed.accessToken });
    expect(await client.trpc.auth.me.query()).toEqual(alice.session.user);
    await expectTrpcError(
      anonymous.trpc.auth.signIn.mutate({ username: alice.session.user.username, password: 'wrong password!' }),
      'UNAUTHORIZED',
    );
  });

  it('reports health with the connection count', async () => {
    const client = clients.connect();
    const health = await client.trpc.connection.health.query();
    expect(health).toMatchObject({ status: 'ok', version: 'test', protocolVersion: PROTOCOL_VERSION });
    expect(health.connections).toBeGreaterThanOrEqual(1);
  });
});

describe('token checks', () => {
  it('closes a WebSocket with 4401 for an expired or forged token', async () => {
    const secret = new TextEncoder().encode(server.config.tokenSecret);
    const ghost = { kind: 'user', userId: randomUUID(), username: 'ghost' } as const;
    const expired = await createAccessTokens({ secret, ttlSeconds: -60 }).issue(ghost, randomUUID());
    const forged = await createAccessTokens({ secret: randomBytes(32), ttlSeconds: 60 }).issue(ghost, randomUUID());
    for (const token of [expired.token, forged.token, 'not-a-jwt']) {
      const client = clients.connect({ getToken: () => token });
      const reconnecting = await client.status.waitFor('reconnecting');
      expect(reconnecting).toMatchObject({ lastCloseCode: 4401 });
    }
  });

  it('answers an HTTP call with a bad bearer token with 401', async () => {
    const response = await fetch(`${server.url}/trpc/auth.me`, { headers: { authorization: 'Bearer forged' } });
    expect(response.status).toBe(401);
    const body = (await response.json()) as { error: { json: { data: { code: string } } } };
    expect(body.error.json.data.code).toBe('UNAUTHORIZED');
  });
});

describe('HTTP endpoints', () => {
  it('serves /healthz, /readyz and tRPC over HTTP on the same port', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: 'ready' });
    const health = (await (await fetch(`${server.url}/trpc/connection.health`)).json()) as {
      result: { data: { json: { status: string } } };
    };
    expect(health.result.data.json.status).toBe('ok');
  });
});
