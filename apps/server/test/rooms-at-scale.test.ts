import { randomBytes } from 'node:crypto';
import type { Room } from '@tether/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectTrpcError } from './helpers/expect-error';
import { clientFactory, signUpUser, startTestServer, type TestServer } from './helpers/test-server';

// A sixth of these a minute: the 26 rooms of the paging test, and a quota test that meets it.
const ROOMS_PER_HOUR = 180;
const WRITES_PER_MINUTE = 30;

let server: TestServer;
const clients = clientFactory(() => server.wsUrl);

beforeAll(async () => {
  server = await startTestServer({ writes: { writesPerMinute: WRITES_PER_MINUTE, roomsPerHour: ROOMS_PER_HOUR } });
});
afterEach(() => clients.disposeAll());
afterAll(() => server.dispose());

const tag = () => randomBytes(3).toString('hex');

describe('rooms at scale', () => {
  it("pages a user's own rooms apart from the public directory, by cursor and by a part of the name", async () => {
    const owner = await signUpUser(clients, 'owner');
    const reader = await signUpUser(clients, 'reader');
    const prefix = `d${tag()}`;
    const names = Array.from({ length: 25 }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
    for (const name of names) await owner.client.trpc.rooms.create.mutate({ name, visibility: 'public' });
    const secret = await owner.client.trpc.rooms.create.mutate({ name: `${prefix}-secret`, visibility: 'private' });

    // The reader belongs to none of them: its own list is empty, the directory has the 25 public ones.
    expect((await reader.client.trpc.rooms.list.query()).rooms).toEqual([]);
    const seen: Room[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await reader.client.trpc.rooms.directory.query({ name: prefix, cursor, limit: 10 });
      expect(page.rooms.length).toBeLessThanOrEqual(10);
      seen.push(...page.rooms);
      cursor = page.nextCursor ?? undefined;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen.map((room) => room.name)).toEqual(names);
    expect(seen.every((room) => !room.isMember)).toBe(true);

    // The owner's own rooms hold the private one; a part of a name narrows them.
    const mine = await owner.client.trpc.rooms.list.query({ name: `${prefix}-s` });
    expect(mine.rooms.map((room) => room.id)).toEqual([secret.id]);
    await reader.client.trpc.rooms.join.mutate({ roomId: seen[3]?.id ?? '' });
    expect((await reader.client.trpc.rooms.list.query()).rooms.map((room) => room.name)).toEqual([names[3]]);

    await expectTrpcError(reader.client.trpc.rooms.directory.query({ cursor: 'not-a-cursor' }), 'BAD_REQUEST');
    await expectTrpcError(reader.client.trpc.rooms.list.query({ limit: 101 }), 'BAD_REQUEST');
  });

  it('never tells whether a private room has a name: private names may repeat, public ones may not', async () => {
    const alice = await signUpUser(clients, 'alice');
    const mallory = await signUpUser(clients, 'mallory');
    const name = `s${tag()}`;
    const hidden = await alice.client.trpc.rooms.create.mutate({ name, visibility: 'private' });
    // Creating a room of that name succeeds as if none existed; a public one then holds the name for everyone.
    const own = await mallory.client.trpc.rooms.create.mutate({ name, visibility: 'private' });
    const open = await mallory.client.trpc.rooms.create.mutate({ name, visibility: 'public' });
    expect(new Set([hidden.id, own.id, open.id]).size).toBe(3);
    const taken = await alice.client.trpc.rooms.create.mutate({ name, visibility: 'public' }).catch((e: unknown) => e);
    expect(String(taken)).toContain(`a public room named "${name}" already exists`);
    // Looking a name up finds one's own room first, and never another's private one.
    expect((await alice.client.trpc.rooms.find.query({ name })).id).toBe(hidden.id);
    // Mallory belongs to two rooms of that name: which one is meant cannot be guessed.
    const ambiguous = await mallory.client.trpc.rooms.find.query({ name }).catch((e: unknown) => e);
    expect(String(ambiguous)).toContain(own.id);
    expect(String(ambiguous)).toContain(open.id);
    await mallory.client.trpc.rooms.leave.mutate({ roomId: open.id });
    expect((await mallory.client.trpc.rooms.find.query({ name })).id).toBe(own.id);
  });

  it('limits how many rooms one user creates (a sixth of the hour in a minute), with a time to retry', async () => {
    const spammer = await signUpUser(clients, 'spammer');
    const bystander = await signUpUser(clients, 'bystander');
    const prefix = `q${tag()}`;
    let created = 0;
    let refused: unknown;
    const inAMinute = Math.ceil(ROOMS_PER_HOUR / 6);
    for (let i = 0; i <= ROOMS_PER_HOUR && !refused; i += 1) {
      await spammer.client.trpc.rooms.create
        .mutate({ name: `${prefix}-${i}`, visibility: 'public' })
        .then(() => (created += 1))
        .catch((error: unknown) => (refused = error));
    }
    expect(created).toBe(inAMinute);
    expect(refused).toMatchObject({ data: { code: 'TOO_MANY_REQUESTS', retryAfterMs: expect.any(Number) } });
    expect((refused as { data: { retryAfterMs: number } }).data.retryAfterMs).toBeLessThanOrEqual(60_000);
    // Another user is not held back by it.
    await bystander.client.trpc.rooms.create.mutate({ name: `${prefix}-b`, visibility: 'public' });
  });

  it('limits how many writes one user makes (sends, edits, deletes; joins and leaves too), over HTTP with 429 and Retry-After', async () => {
    const writer = await signUpUser(clients, 'writer');
    const room = await writer.client.trpc.rooms.create.mutate({ name: `m${tag()}`, visibility: 'public' });
    const sent = await writer.client.trpc.messages.send.mutate({
      roomId: room.id,
      body: 'first',
      idempotencyKey: `k-${tag()}`,
    });
    for (let i = 1; i < WRITES_PER_MINUTE - 1; i += 1) {
      await writer.client.trpc.messages.send.mutate({ roomId: room.id, body: `m${i}`, idempotencyKey: `k-${tag()}` });
    }
    await writer.client.trpc.messages.edit.mutate({ messageId: sent.id, body: 'edited' });
    await expectTrpcError(writer.client.trpc.messages.delete.mutate({ messageId: sent.id }), 'TOO_MANY_REQUESTS');
    const response = await fetch(`${server.url}/trpc/messages.send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${writer.session.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ json: { roomId: room.id, body: 'over http', idempotencyKey: `k-${tag()}` } }),
    });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    const page = await writer.client.trpc.messages.list.query({ roomId: room.id, limit: 100 });
    expect(page.messages).toHaveLength(WRITES_PER_MINUTE - 1);
  });
});
