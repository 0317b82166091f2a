import { randomUUID } from 'node:crypto';
import { type AppRouter, CloseCode } from '@tether/protocol';
import type { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observeRoom } from './helpers/room-observer';
import { clientFactory, signUpUser, startTestServer, type TestServer } from './helpers/test-server';

let server: TestServer;
let admin: Awaited<ReturnType<typeof signUpUser>>;
const clients = clientFactory(() => server.wsUrl);
const key = () => `k-${randomUUID()}`;

beforeAll(async () => {
  // A server of its own: the first person to sign up is its admin.
  server = await startTestServer();
  admin = await signUpUser(clients, 'admin');
});
afterAll(async () => {
  await clients.disposeAll();
  await server.dispose();
});

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (error: TRPCClientError<AppRouter>) => error.data?.code,
  );

describe('service tokens', () => {
  it('do only what their scopes and rooms allow, are never a user session, and stop working when revoked', async () => {
    const person = await signUpUser(clients, 'person');
    const ops = await admin.client.trpc.rooms.create.mutate({
      name: `ops-${randomUUID().slice(0, 6)}`,
      visibility: 'private',
    });
    const other = await admin.client.trpc.rooms.create.mutate({
      name: `other-${randomUUID().slice(0, 6)}`,
      visibility: 'public',
    });
    const botName = `deploy-bot-${randomUUID().slice(0, 6)}`;

    expect(
      await codeOf(
        person.client.trpc.tokens.create.mutate({ name: 'sneaky-bot', scopes: ['messages:send'], roomIds: [] }),
      ),
    ).toBe('FORBIDDEN');
    const created = await admin.client.trpc.tokens.create.mutate({
      name: botName,
      scopes: ['messages:send'],
      roomIds: [ops.id],
    });
    expect(created.token).toMatch(/^tts_/);

    const bot = clients.connect({ getToken: () => created.token });
    const sent = await bot.trpc.messages.send.mutate({ roomId: ops.id, body: 'deployed v42', idempotencyKey: key() });
    expect(sent.author.username).toBe(botName);
    // Outside its scope, its rooms, or anything a person does: refused.
    expect(await codeOf(bot.trpc.messages.list.query({ roomId: ops.id }))).toBe('FORBIDDEN');
    expect(await codeOf(bot.trpc.messages.send.mutate({ roomId: other.id, body: 'x', idempotencyKey: key() }))).toBe(
      'FORBIDDEN',
    );
    expect(await codeOf(bot.trpc.auth.me.query())).toBe('FORBIDDEN');
    expect(await codeOf(bot.trpc.rooms.create.mutate({ name: 'bots-room', visibility: 'public' }))).toBe('FORBIDDEN');
    // Its bot identity cannot sign in as a person either.
    expect(await codeOf(bot.trpc.auth.signIn.mutate({ username: botName, password: 'anything at all' }))).toBe(
      'UNAUTHORIZED',
    );

    const listed = await admin.client.trpc.tokens.list.query();
    expect(listed.find((t) => t.id === created.id)).toEqual({
      id: created.id,
      name: botName,
      scopes: ['messages:send'],
      roomIds: [ops.id],
      createdAt: created.createdAt,
      revokedAt: null,
    });
    await admin.client.trpc.tokens.revoke.mutate({ id: created.id });
    const afterRevoke = clients.connect({ getToken: () => created.token });
    expect((await afterRevoke.status.waitFor('reconnecting')).lastCloseCode).toBe(CloseCode.Unauthorized);
  });

  it('reach a private room only through an admin who is a member, and join a room named twice once', async () => {
    const owner = await signUpUser(clients, 'owner');
    const secret = await owner.client.trpc.rooms.create.mutate({
      name: `secret-${randomUUID().slice(0, 6)}`,
      visibility: 'private',
    });
    // The admin is not a member: the room is as good as not there, and no token reads it.
    expect(
      await codeOf(
        admin.client.trpc.tokens.create.mutate({
          name: `spy-${randomUUID().slice(0, 6)}`,
          scopes: ['messages:read'],
          roomIds: [secret.id],
        }),
      ),
    ).toBe('NOT_FOUND');

    const shared = await admin.client.trpc.rooms.create.mutate({
      name: `shared-${randomUUID().slice(0, 6)}`,
      visibility: 'public',
    });
    const botName = `twice-${randomUUID().slice(0, 6)}`;
    const created = await admin.client.trpc.tokens.create.mutate({
      name: botName,
      scopes: ['messages:send'],
      roomIds: [shared.id, shared.id],
    });
    expect(created.roomIds).toEqual([shared.id]);
    const members = await admin.client.trpc.rooms.members.query({ roomId: shared.id });
    expect(members.filter((member) => member.user.username === botName)).toHaveLength(1);
    // Replayed from the start: the room's own log says the bot joined once.
    const history = observeRoom(admin.client, shared.id, '0');
    await history.live;
    const joined = history.events.filter(
      (event) => event.type === 'member.joined' && event.member.username === botName,
    );
    expect(joined).toHaveLength(1);
    history.stop();
  });

  it('without a room list, read only the rooms their bot belongs to, public ones included', async () => {
    const lobby = await admin.client.trpc.rooms.create.mutate({
      name: `lobby-${randomUUID().slice(0, 6)}`,
      visibility: 'public',
    });
    const botName = `reader-bot-${randomUUID().slice(0, 6)}`;
    const created = await admin.client.trpc.tokens.create.mutate({
      name: botName,
      scopes: ['messages:read'],
      roomIds: [],
    });
    const bot = clients.connect({ getToken: () => created.token });
    expect(await codeOf(bot.trpc.messages.list.query({ roomId: lobby.id }))).toBe('FORBIDDEN');
    const refused = new Promise<unknown>((resolve) =>
      bot.trpc.rooms.events.subscribe({ roomId: lobby.id }, { onError: resolve }),
    );
    expect(String(await refused)).toContain('not a member of this room');
    // Once its bot is in the room, the same token reads it.
    await admin.client.trpc.rooms.invite.mutate({ roomId: lobby.id, username: botName });
    expect(await codeOf(bot.trpc.messages.list.query({ roomId: lobby.id }))).toBe('ok');
  });
});
