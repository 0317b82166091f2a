import { randomBytes } from 'node:crypto';
import type { RoomEvent } from '@tether/protocol';
import {
  killAllServers,
  nginxBinary,
  respawn,
  type ServerProcess,
  spawnServer,
  startNginxProxy,
} from '@tether/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, freshConfigHome, startTether, tether } from './helpers';

const nginx = await nginxBinary();
if (!nginx) console.warn('[skip] tether tail behind nginx: nginx is not installed (.ci/run installs it)');

let server: ServerProcess;
beforeAll(async () => {
  server = await spawnServer();
});
afterAll(() => killAllServers());

/** `tether --json tail <room>` as a child process: the events it prints, its stderr, and a way to wait on either. */
function followTail(room: string, env: Record<string, string>) {
  const tail = startTether(['--json', 'tail', room], env);
  const events: RoomEvent[] = [];
  let stderr = '';
  const waiters: Array<{ test: () => boolean; resolve: () => void }> = [];
  const check = () => {
    for (const waiter of waiters.filter((w) => w.test())) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const until = (test: () => boolean) =>
    new Promise<void>((resolve) => (test() ? resolve() : waiters.push({ test, resolve })));
  let buffered = '';
  tail.stdout?.on('data', (chunk) => {
    buffered += chunk;
    const complete = buffered.split('\n');
    buffered = complete.pop() ?? '';
    for (const line of complete.filter(Boolean)) events.push(JSON.parse(line) as RoomEvent);
    check();
  });
  tail.stderr?.on('data', (chunk) => {
    stderr += chunk;
    check();
  });
  const exited = new Promise<number | null>((resolve) => tail.on('close', resolve));
  return { tail, events, stderr: () => stderr, until, exited };
}

describe('tether tail', () => {
  it('follows a room across a server crash without losing or repeating an event, and ends on Ctrl-C', async () => {
    const env = cliEnv(server.url, await freshConfigHome());
    const name = `tail${randomBytes(3).toString('hex')}`;
    expect((await tether(['login', name, '--new'], env, 'a long password\n')).code).toBe(0);
    const room = `live${randomBytes(3).toString('hex')}`;
    expect((await tether(['rooms', 'create', room], env)).code).toBe(0);

    const { tail, events, stderr, until, exited } = followTail(room, env);
    await until(() => stderr().includes(`live in ${room}`));
    const send = async (text: string) => expect((await tether(['send', room, text], env)).code).toBe(0);
    await send('before the crash');
    await until(() => events.length >= 1);

    server.signal('SIGKILL');
    await server.exited;
    await until(() => stderr().includes('connection: reconnecting'));
    server = await respawn(server);
    await send('after the restart 1');
    await send('after the restart 2');
    await until(() => events.length >= 3);

    tail.kill('SIGINT');
    expect(await exited).toBe(0);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([seqs[0], (seqs[0] ?? 0) + 1, (seqs[0] ?? 0) + 2]);
    expect(events.map((e) => (e.type === 'message.sent' ? e.message.body : e.type))).toEqual([
      'before the crash',
      'after the restart 1',
      'after the restart 2',
    ]);
  });

  it.skipIf(!nginx)(
    'keeps following over HTTP behind a proxy that refuses WebSocket, and moves back when the proxy allows it',
    async () => {
      const proxy = await startNginxProxy(server.port, 'refuse');
      try {
        const env = cliEnv(proxy.url, await freshConfigHome());
        const name = `tailp${randomBytes(3).toString('hex')}`;
        expect((await tether(['login', name, '--new'], env, 'a long password\n')).code).toBe(0);
        const room = `prox${randomBytes(3).toString('hex')}`;
        expect((await tether(['rooms', 'create', room], env)).code).toBe(0);
        const { tail, events, stderr, until, exited } = followTail(room, env);
        const send = async (text: string) => expect((await tether(['send', room, text], env)).code).toBe(0);

        await until(() => stderr().includes('connection: connected over HTTP'));
        await until(() => stderr().includes(`live in ${room}`));
        await send('over http 1');
        await until(() => events.length >= 1);

        server.signal('SIGKILL');
        await server.exited;
        server = await respawn(server);
        await send('over http 2');
        await until(() => events.length >= 2);

        await proxy.setMode('pass');
        await until(() => /connection: connected\n/.test(stderr()));
        await send('over websocket');
        await until(() => events.length >= 3);

        tail.kill('SIGINT');
        expect(await exited).toBe(0);
        expect(events.map((e) => (e.type === 'message.sent' ? e.message.body : e.type))).toEqual([
          'over http 1',
          'over http 2',
          'over websocket',
        ]);
      } finally {
        await proxy.stop();
      }
    },
    60_000,
  );
});
