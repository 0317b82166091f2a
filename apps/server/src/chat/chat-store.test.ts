import { randomBytes, randomUUID } from 'node:crypto';
import type { Principal, SendMessageInput, Services } from '@tether/protocol';
import type { Store } from '@tether/server-core';
import {
  createGroupCommit,
  createMemoryBus,
  createRevocationLog,
  IdempotencyConflictError,
  readEvents,
} from '@tether/server-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeEngines } from '../../test/helpers/test-stores';
import { createAccessTokens } from './access-tokens';
import { sweepExpiredRefreshTokens } from './auth-service';
import { createChatServices } from './chat-services';
import { createPasswordHasher, type PasswordHasher } from './passwords';
import { roomStreamId } from './room-events';
import { createSignInLimits } from './sign-in-limits';
import { createWriteLimits } from './write-limits';

const key = () => `key-${randomUUID()}`;
/** Every sign-up and sign-in here comes from one address (documentation range, RFC 5737). */
const caller = { address: '192.0.2.1' };

/** Deadlocks PostgreSQL has detected in this database (PGlite, one connection, has none to detect). */
async function deadlockCount(store: Store): Promise<number> {
  if (store.engine !== 'postgres') return 0;
  const [row] = await store.query<{ deadlocks: number }>(
    'SELECT deadlocks::integer AS deadlocks FROM pg_stat_database WHERE datname = current_database()',
  );
  return row?.deadlocks ?? 0;
}

describe.each(storeEngines('chat store suite'))('chat store suite: $name', (engine) => {
  let store: Store;
  let chat: Services;
  let passwords: PasswordHasher;
  let alice: Principal;
  let roomId: string;

  beforeEach(async () => {
    store = await engine.open();
    const writes = createGroupCommit(store);
    const bus = createMemoryBus();
    // No sessions are open in these tests: revocations are recorded, with no one to reach.
    const revocations = createRevocationLog({ store, writes, bus, recheckMs: null, onError: () => {} });
    await revocations.start();
    passwords = createPasswordHasher({ atOnce: 1, waiting: 100 });
    chat = createChatServices({
      store,
      writes,
      bus,
      accessTokens: createAccessTokens({ secret: randomBytes(32), ttlSeconds: 60 }),
      refreshTokenTtlDays: 1,
      revocations,
      signInLimits: createSignInLimits({
        perAddressPerMinute: 1_000,
        failuresPerUsernameAndAddress: 10,
        failuresPerUsername: 100,
      }),
      writeLimits: createWriteLimits({ writesPerMinute: 1_000, roomsPerHour: 1_000 }),
      passwords,
    });
    const session = await chat.auth.signUp({ username: 'alice', password: 'long enough password' }, caller);
    alice = { kind: 'user', userId: session.user.id, username: 'alice' };
    roomId = (await chat.rooms.create(alice, { name: 'general', visibility: 'public' }, null)).id;
  });
  afterEach(async () => {
    await passwords.close();
    await store.close();
  });

  /** Sends as alice with the once-only scope the router derives from the call. */
  const send = (input: SendMessageInput) =>
    chat.messages.send(alice, input, {
      principalId: alice.userId,
      path: 'messages.send',
      key: input.idempotencyKey,
      input,
    });

  it('assigns gap-free, unique seqs to concurrent sends in one room', async () => {
    const sends = Array.from({ length: 40 }, (_, i) => send({ roomId, body: `message ${i}`, idempotencyKey: key() }));
    const messages = await Promise.all(sends);
    const seqs = messages.map((m) => m.seq).sort((a, b) => a - b);
    // seq 1 is alice's member.joined when she created the room.
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 2));
    const log = await readEvents<{ seq: number }>(store, roomStreamId(roomId), { afterSeq: 0, limit: 100 });
    expect(log.map((e) => e.seq)).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
  });

  it('pages history newest first with a beforeSeq cursor', async () => {
    for (let i = 0; i < 7; i += 1) {
      await send({ roomId, body: `m${i}`, idempotencyKey: key() });
    }
    const first = await chat.messages.list(alice, { roomId, limit: 3 });
    expect(first.messages.map((m) => m.body)).toEqual(['m6', 'm5', 'm4']);
    const second = await chat.messages.list(alice, { roomId, limit: 3, beforeSeq: first.nextBeforeSeq ?? -1 });
    expect(second.messages.map((m) => m.body)).toEqual(['m3', 'm2', 'm1']);
    const last = await chat.messages.list(alice, { roomId, limit: 3, beforeSeq: second.nextBeforeSeq ?? -1 });
    expect(last.messages.map((m) => m.body)).toEqual(['m0']);
    expect(last.nextBeforeSeq).toBeNull();
  });

  it('returns the first message for a repeated idempotency key and applies it once', async () => {
    const idempotencyKey = key();
    const input = { roomId, body: 'only once', idempotencyKey };
    const results = await Promise.all([send(input), send(input), send(input)]);
    const again = await send(input);
    for (const result of [...results, again]) expect(result).toEqual(results[0]);
    const page = await chat.messages.list(alice, { roomId, limit: 10 });
    expect(page.messages.filter((m) => m.body === 'only once')).toHaveLength(1);
  });

  it('keeps the first of two concurrent sends that share a key and refuses the other', async () => {
    const idempotencyKey = key();
    const [first, second] = await Promise.allSettled([
      send({ roomId, body: 'one', idempotencyKey }),
      send({ roomId, body: 'two', idempotencyKey }),
    ]);
    expect(first).toMatchObject({ status: 'fulfilled', value: { body: 'one' } });
    expect(second).toMatchObject({ status: 'rejected', reason: expect.any(IdempotencyConflictError) });
  });

  it('runs sends, edits, joins and leaves across rooms side by side without a deadlock or a gap', async () => {
    const bob = await chat.auth.signUp({ username: 'bob', password: 'long enough password' }, caller);
    const bobPrincipal: Principal = { kind: 'user', userId: bob.user.id, username: 'bob' };
    const rooms = [roomId];
    for (const name of ['second', 'third', 'fourth']) {
      rooms.push((await chat.rooms.create(alice, { name, visibility: 'public' }, null)).id);
    }
    const mine = await Promise.all(rooms.map((id) => send({ roomId: id, body: 'to edit', idempotencyKey: key() })));
    // Eight callers at once, each walking the rooms in its own order: lock cycles, if the write path allowed them.
    const deadlocksBefore = await deadlockCount(store);
    const operation = (worker: number, i: number) => {
      const room = rooms[(worker + i) % rooms.length] as string;
      const other = rooms[(((worker - i) % rooms.length) + rooms.length) % rooms.length] as string;
      const message = mine[(worker * 7 + i) % mine.length];
      if (!message) throw new Error('no message');
      switch ((worker + i) % 4) {
        case 0:
          return send({ roomId: room, body: `m${worker}.${i}`, idempotencyKey: key() });
        case 1:
          return chat.messages.edit(alice, { messageId: message.id, body: `edit ${worker}.${i}` }, null);
        case 2:
          return chat.rooms.join(bobPrincipal, { roomId: other });
        default:
          return chat.rooms.leave(bobPrincipal, { roomId: room });
      }
    };
    const failures: unknown[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, worker) => {
        for (let i = 0; i < 40; i += 1) await Promise.resolve(operation(worker, i)).catch((e) => failures.push(e));
      }),
    );
    expect(failures.map(String)).toEqual([]);
    expect(await deadlockCount(store)).toBe(deadlocksBefore);
    for (const id of rooms) {
      const log = await readEvents<{ seq: number }>(store, roomStreamId(id), { afterSeq: 0, limit: 1_000 });
      expect(log.map((e) => e.seq)).toEqual(Array.from({ length: log.length }, (_, i) => i + 1));
    }
  });

  it('refuses a repeated idempotency key carrying a different request', async () => {
    const idempotencyKey = key();
    await send({ roomId, body: 'first', idempotencyKey });
    await expect(send({ roomId, body: 'second', idempotencyKey })).rejects.toBeInstanceOf(IdempotencyConflictError);
  });

  it('records edits and deletions as events and hides deleted messages from history', async () => {
    const message = await send({ roomId, body: 'draft', idempotencyKey: key() });
    const edited = await chat.messages.edit(alice, { messageId: message.id, body: 'final' }, null);
    expect(edited.body).toBe('final');
    expect(edited.editedAt).toBeInstanceOf(Date);
    await chat.messages.delete(alice, { messageId: message.id }, null);
    expect((await chat.messages.list(alice, { roomId, limit: 10 })).messages).toEqual([]);
    const log = await readEvents<{ seq: number; type: string }>(store, roomStreamId(roomId), {
      afterSeq: 0,
      limit: 10,
    });
    expect(log.map((e) => e.type)).toEqual(['member.joined', 'message.sent', 'message.edited', 'message.deleted']);
  });

  it('rotates refresh tokens and revokes the family when a used one comes back', async () => {
    const first = await chat.auth.signIn({ username: 'alice', password: 'long enough password' }, caller);
    const second = await chat.auth.refresh({ refreshToken: first.refreshToken });
    expect(second.refreshToken).not.toBe(first.refreshToken);
    await expect(chat.auth.refresh({ refreshToken: first.refreshToken })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    // The reuse revoked the whole family, including the newest token.
    await expect(chat.auth.refresh({ refreshToken: second.refreshToken })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });

  it('sweeps refresh tokens past their expiry, and keeps the live ones', async () => {
    const expiring = await chat.auth.signIn({ username: 'alice', password: 'long enough password' }, caller);
    const live = await chat.auth.signIn({ username: 'alice', password: 'long enough password' }, caller);
    const before = await store.query<{ n: number }>('SELECT count(*)::int AS n FROM refresh_tokens');
    // Expired as time would expire it: every row but the live sign-in's.
    await store.query(
      `UPDATE refresh_tokens SET expires_at = now() - interval '1 second'
       WHERE family_id NOT IN (SELECT family_id FROM refresh_tokens ORDER BY expires_at DESC LIMIT 1)`,
    );
    const swept = await sweepExpiredRefreshTokens(store);
    const after = await store.query<{ n: number }>('SELECT count(*)::int AS n FROM refresh_tokens');
    expect(swept).toBeGreaterThanOrEqual(2);
    expect(after[0]?.n).toBe((before[0]?.n ?? 0) - swept);
    await expect(chat.auth.refresh({ refreshToken: expiring.refreshToken })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    expect((await chat.auth.refresh({ refreshToken: live.refreshToken })).user.username).toBe('alice');
  });
});
