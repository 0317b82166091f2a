import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { AppRouter, Message } from '@tether/protocol';
import { killAllServers, type ServerProcess, spawnServer } from '@tether/testing';
import { createTRPCClient, httpLink } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTetherClient } from '../src/node';

const EXAMPLE = fileURLToPath(new URL('../examples/ping-bot.ts', import.meta.url));
const README = fileURLToPath(new URL('../README.md', import.meta.url));

let server: ServerProcess;
beforeAll(async () => {
  server = await spawnServer();
});
afterAll(() => killAllServers());

const http = (token?: string) =>
  createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${server.url}/trpc`,
        transformer: superjson,
        headers: () => (token ? { authorization: `Bearer ${token}` } : {}),
      }),
    ],
  });

describe('the README example service', () => {
  it('is shown in the README as it is in examples/', async () => {
    const [readme, example] = await Promise.all([readFile(README, 'utf8'), readFile(EXAMPLE, 'utf8')]);
    expect(readme).toContain(example.trim());
  });

  it('runs with a service token and answers in its room', async () => {
    const admin = await http().auth.signUp.mutate({ username: 'example-admin', password: 'a long password' });
    const api = http(admin.accessToken);
    const room = await api.rooms.create.mutate({ name: 'ops', visibility: 'public' });
    const { token } = await api.tokens.create.mutate({
      name: 'ping-bot',
      scopes: ['messages:read', 'messages:send'],
      roomIds: [room.id],
    });

    const bot = spawn(process.execPath, ['--import', 'tsx', EXAMPLE], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: {
        PATH: process.env.PATH ?? '',
        TETHER_URL: `${server.url.replace('http', 'ws')}/trpc`,
        TETHER_TOKEN: token,
        TETHER_ROOM: room.id,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve) => {
        createInterface({ input: bot.stdout as NodeJS.ReadableStream }).on('line', (line) => {
          if (line.startsWith('ping-bot: listening')) resolve();
        });
      });
      // Watch the room as the admin: the bot's reply arrives as an event.
      const watcher = createTetherClient({
        url: `${server.url.replace('http', 'ws')}/trpc`,
        getToken: () => admin.accessToken,
      });
      try {
        const reply = new Promise<Message>((resolve) => {
          watcher.trpc.rooms.events.subscribe(
            { roomId: room.id },
            {
              onData: ({ data }) => {
                if (data.type === 'synced') {
                  void api.messages.send.mutate({ roomId: room.id, body: '!ping', idempotencyKey: 'example-ping-1' });
                } else if (data.type === 'message.sent' && data.message.author.username === 'ping-bot') {
                  resolve(data.message);
                }
              },
            },
          );
        });
        expect(await reply).toMatchObject({ body: 'pong, example-admin', author: { username: 'ping-bot' } });
      } finally {
        await watcher.dispose();
      }
    } finally {
      bot.kill('SIGKILL');
    }
  });
});
