import { randomUUID } from 'node:crypto';
import { rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAllServers, respawn, type ServerProcess, spawnServer } from '@tether/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { clientFactory } from '../helpers/test-server';

const PASSWORD = 'correct horse battery staple';

let server: ServerProcess;
const clients = clientFactory(() => server.wsUrl);
const links: string[] = [];

afterEach(async () => {
  await clients.disposeAll();
  await Promise.all(links.splice(0).map((link) => rm(link, { force: true })));
  await killAllServers();
});
afterAll(() => killAllServers());

/** The rejection of a spawn that exits before listening: its message carries the process's stderr. */
async function refusedStart(dataDir: string): Promise<string> {
  const outcome = await spawnServer({ dataDir }).then(
    (unexpected) => ({ listening: unexpected.pid }),
    (error: Error) => ({ refused: error.message }),
  );
  expect(outcome).toHaveProperty('refused');
  return (outcome as { refused: string }).refused;
}

/** The one line main.ts prints when startServer fails, from a spawn rejection's message. */
function failureLines(message: string): string[] {
  return message.split('\n').filter((line) => line.startsWith('tether server failed to start:'));
}

async function expectServes(target: ServerProcess, username: string): Promise<void> {
  expect((await fetch(`${target.url}/healthz`)).status).toBe(200);
  const session = await clients.connect().trpc.auth.signIn.mutate({ username, password: PASSWORD });
  expect(session.user.username).toBe(username);
}

describe('one server process per PGlite data directory', () => {
  it('refuses a second server on the same data directory, naming the holder', async () => {
    server = await spawnServer();
    const username = `holder-${randomUUID().slice(0, 8)}`;
    await clients.connect().trpc.auth.signUp.mutate({ username, password: PASSWORD });

    const message = await refusedStart(server.dataDir);
    expect(message).toMatch(/^server exited \(1\) before listening/);
    const [line, ...others] = failureLines(message);
    expect(others).toEqual([]);
    // It names the directory (PGlite's own folder inside it) and the process holding it.
    expect(line).toContain(`data directory ${server.dataDir}`);
    expect(line).toContain(`is in use by process ${server.pid} (since `);
    expect(line).toContain('one server process per data directory');
    const since = /\(since ([^)]+)\)/.exec(line ?? '')?.[1] ?? '';
    expect(new Date(since).toISOString()).toBe(since);
    expect(Date.parse(since)).toBeLessThanOrEqual(Date.now());

    // The same directory by another name is the same lock.
    const link = join(tmpdir(), `tether-lock-link-${randomUUID().slice(0, 8)}`);
    await symlink(server.dataDir, link);
    links.push(link);
    expect(failureLines(await refusedStart(link))[0]).toContain(`is in use by process ${server.pid}`);

    // The holder never noticed: it serves, keeps what it had, and takes new writes.
    expect(server.logs.filter((l) => l.level === 'error')).toEqual([]);
    await expectServes(server, username);
    const newcomer = await clients
      .connect()
      .trpc.auth.signUp.mutate({ username: `after-${randomUUID().slice(0, 8)}`, password: PASSWORD });
    await expectServes(server, newcomer.user.username);
  });

  it('a lock left by kill -9 never blocks a restart', async () => {
    server = await spawnServer();
    const username = `before-${randomUUID().slice(0, 8)}`;
    const session = await clients.connect().trpc.auth.signUp.mutate({ username, password: PASSWORD });
    const author = clients.connect({ getToken: () => session.accessToken });
    const room = await author.trpc.rooms.create.mutate({ name: `lock-${randomUUID().slice(0, 8)}` });
    const sent = await author.trpc.messages.send.mutate({
      roomId: room.id,
      body: 'written before the kill',
      idempotencyKey: `k-${randomUUID()}`,
    });
    await clients.disposeAll();

    const killed = server;
    killed.signal('SIGKILL');
    expect(await killed.exited).toEqual({ code: null, signal: 'SIGKILL' });

    server = await respawn(killed);
    expect(server.pid).not.toBe(killed.pid);
    expect(server.port).toBe(killed.port);
    await expectServes(server, username);
    const reader = clients.connect({ getToken: () => session.accessToken });
    const page = await reader.trpc.messages.list.query({ roomId: room.id });
    expect(page.messages.map((m) => ({ id: m.id, body: m.body }))).toEqual([{ id: sent.id, body: sent.body }]);

    // And the new process holds the lock in its turn.
    expect(failureLines(await refusedStart(server.dataDir))[0]).toContain(`is in use by process ${server.pid}`);
  });
});
