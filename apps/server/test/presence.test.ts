import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { watchPresence } from './helpers/presence-watcher';
import { clientFactory, signUpUser, startTestServer, type TestServer } from './helpers/test-server';

let server: TestServer;
const clients = clientFactory(() => server.wsUrl);

beforeAll(async () => {
  server = await startTestServer();
});
afterEach(() => clients.disposeAll());
afterAll(() => server.dispose());

const names = (users: { username: string }[]) => users.map((u) => u.username);

describe('presence and typing', () => {
  it('shows who has the room open and who is typing, and forgets them when they leave or send', async () => {
    const alice = await signUpUser(clients, 'alice');
    const bob = await signUpUser(clients, 'bob');
    const room = await alice.client.trpc.rooms.create.mutate({
      name: `p-${randomUUID().slice(0, 8)}`,
      visibility: 'public',
    });
    await bob.client.trpc.rooms.join.mutate({ roomId: room.id });
    const [a, b] = [alice.session.user.username, bob.session.user.username];

    const bobView = watchPresence(bob.client, room.id);
    await bobView.until((p) => names(p.online).includes(b));
    const aliceView = watchPresence(alice.client, room.id);
    await bobView.until((p) => names(p.online).sort().join() === [a, b].sort().join());

    await alice.client.trpc.rooms.typing.mutate({ roomId: room.id });
    await bobView.until((p) => names(p.typing).includes(a));
    await alice.client.trpc.messages.send.mutate({
      roomId: room.id,
      body: 'done typing',
      idempotencyKey: `k-${randomUUID()}`,
    });
    await bobView.until((p) => p.typing.length === 0);

    aliceView.stop();
    const after = await bobView.until((p) => !names(p.online).includes(a));
    expect(names(after.online)).toEqual([b]);
  });

  it('keeps private rooms private: a non-member can neither watch presence nor signal typing', async () => {
    const owner = await signUpUser(clients, 'owner');
    const outsider = await signUpUser(clients, 'outsider');
    const room = await owner.client.trpc.rooms.create.mutate({
      name: `p-${randomUUID().slice(0, 8)}`,
      visibility: 'private',
    });
    const refused = new Promise<unknown>((resolve) =>
      outsider.client.trpc.rooms.presence.subscribe({ roomId: room.id }, { onError: resolve }),
    );
    expect(String(await refused)).toContain('members only');
    await expect(outsider.client.trpc.rooms.typing.mutate({ roomId: room.id })).rejects.toThrow('members only');
  });
});
