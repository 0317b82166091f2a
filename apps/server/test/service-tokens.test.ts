import { randomUUID } from 'node:crypto';
import { type AppRouter, CloseCode } from '@tether/protocol';
import type { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientFactory, signUpUser, startTestServer, type TestServer } from './helpers/test-server';

let server: TestServer;
const clients = clientFactory(() => server.wsUrl);
const key = () => `k-${randomUUID()}`;

beforeAll(async () => {
  // A server of its own: the first person to sign up is its admin.
  server = await startTestServer();
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
    const admin = await signUpUser(clients, 'admin');
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
});
