import { randomBytes } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Message, PROTOCOL_VERSION, type Room } from '@tether/protocol';
import { killAllServers, type ServerProcess, spawnServer } from '@tether/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, freshConfigHome, lines, type Result, tether } from './helpers';

let server: ServerProcess;
beforeAll(async () => {
  server = await spawnServer();
});
afterAll(() => killAllServers());

const PASSWORD = 'a long password\n';
const unique = (prefix: string) => `${prefix}${randomBytes(3).toString('hex')}`;

/** A signed-in CLI user with a home of their own (on the suite's server unless told). */
async function user(prefix = 'u', on: ServerProcess = server) {
  const home = await freshConfigHome();
  const env = cliEnv(on.url, home);
  const name = unique(prefix);
  const login = await tether(['login', name, '--new'], env, PASSWORD);
  expect(login.code).toBe(0);
  return { name, home, env, run: (args: string[], input?: string) => tether(args, env, input) };
}

const ok = (result: Result) => {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result;
};

describe('tether: help and usage', () => {
  it('documents every command and the exit codes, and starts fast', async () => {
    const help = await tether(['--help'], cliEnv(server.url, await freshConfigHome()));
    expect(help.code).toBe(0);
    for (const command of [
      'login',
      'rooms ls',
      'send ROOM',
      'tail ROOM',
      'call',
      'import FILE.ndjson ROOM',
      'status',
      'completion',
    ]) {
      expect(help.stdout).toContain(command);
    }
    expect(help.stdout).toContain('3  not authenticated, or forbidden');
    console.info(`[figures] tether --help: ${help.ms.toFixed(0)} ms wall time as a whole process`);
  });

  it('answers wrong usage with exit 2 and says what is expected', async () => {
    const env = cliEnv(server.url, await freshConfigHome());
    const unknown = await tether(['frobnicate'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const missing = await tether(['send'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Usage: tether send ROOM');
  });

  it('prints a completion script for bash and zsh', async () => {
    const env = cliEnv(server.url, await freshConfigHome());
    expect(ok(await tether(['completion', 'bash'], env)).stdout).toContain('complete -F _tether tether');
    expect(ok(await tether(['completion', 'zsh'], env)).stdout).toContain('compdef _tether tether');
  });
});

describe('tether: accounts', () => {
  it('logs in from stdin, keeps credentials private, says who is signed in, and logs out', async () => {
    const alice = await user('alice');
    const file = join(alice.home, 'tether', 'credentials.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(lines(ok(await alice.run(['--json', 'whoami'])).stdout)).toEqual([
      expect.objectContaining({ username: alice.name }),
    ]);
    ok(await alice.run(['logout']));
    const after = await alice.run(['whoami']);
    expect(after.code).toBe(3);
    expect(after.stderr).toContain('tether login');
  });

  it('refuses a wrong password with exit 3', async () => {
    const alice = await user('alice');
    const wrong = await tether(['login', alice.name], alice.env, 'not the password\n');
    expect(wrong.code).toBe(3);
  });
});

describe('tether: rooms and messages', () => {
  it('creates, joins, invites and lists rooms, sends from arguments and stdin, and reads history', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const room = unique('ops');
    ok(await alice.run(['rooms', 'create', room]));
    ok(await bob.run(['rooms', 'join', room]));
    const rooms = lines(ok(await alice.run(['--json', 'rooms', 'ls'])).stdout)[0] as Room[];
    expect(rooms.find((r) => r.name === room)).toMatchObject({ memberCount: 2, isMember: true });

    const sent = await alice.run(['send', room, 'deploy', 'finished']);
    ok(sent);
    ok(await bob.run(['send', room], 'piped in\nacross two lines\n'));
    console.info(`[figures] tether send (whole process, signed in, local server): ${sent.ms.toFixed(0)} ms`);

    const history = lines(ok(await alice.run(['--json', 'history', room])).stdout)[0] as Message[];
    expect(history.map((m) => m.body)).toEqual(['deploy finished', 'piped in\nacross two lines']);
    const older = lines(
      ok(await alice.run(['--json', 'history', room, '--limit', '1', '--before', String(history[1]?.seq)])).stdout,
    )[0] as Message[];
    expect(older.map((m) => m.body)).toEqual(['deploy finished']);
    const text = ok(await alice.run(['history', room])).stdout;
    expect(text).toContain(`${bob.name}: piped in`);

    const privateRoom = unique('secret');
    ok(await alice.run(['rooms', 'create', privateRoom, '--private']));
    ok(await alice.run(['rooms', 'invite', privateRoom, bob.name]));
    const members = lines(ok(await bob.run(['--json', 'rooms', 'members', privateRoom])).stdout)[0] as {
      user: { username: string };
    }[];
    expect(members.map((m) => m.user.username).sort()).toEqual([alice.name, bob.name].sort());
  });

  it('maps failures to exit codes: invalid input 2, forbidden 3, server unreachable 4', async () => {
    const alice = await user('alice');
    const bad = await alice.run(['rooms', 'create', 'not a valid name!']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('room name may contain only');

    const outsider = await user('outsider');
    const secret = unique('secret');
    ok(await alice.run(['rooms', 'create', secret, '--private']));
    const room = (lines(ok(await alice.run(['--json', 'rooms', 'ls'])).stdout)[0] as Room[]).find(
      (r) => r.name === secret,
    );
    const forbidden = await outsider.run(['call', 'messages.list', '--roomId', room?.id ?? '']);
    expect(forbidden.code).toBe(3);

    const offline = await tether(['status'], cliEnv('http://127.0.0.1:1', alice.home));
    expect(offline.code).toBe(4);
    expect(offline.stderr).toContain('cannot reach the Tether server');
  });

  it('reports status as JSON, with protocol support', async () => {
    const status = lines(ok(await tether(['--json', 'status'], cliEnv(server.url, await freshConfigHome()))).stdout)[0];
    expect(status).toMatchObject({
      status: 'ok',
      protocolVersion: PROTOCOL_VERSION,
      cliProtocolVersion: PROTOCOL_VERSION,
      supported: true,
    });
  });
});

describe('tether call', () => {
  it('calls any procedure with flags derived from its schema, and explains them', async () => {
    const alice = await user('alice');
    const room = unique('calls');
    const created = lines(
      ok(await alice.run(['--json', 'call', 'rooms.create', '--name', room, '--visibility', 'private'])).stdout,
    )[0] as Room;
    expect(created).toMatchObject({ name: room, visibility: 'private' });
    ok(
      await alice.run([
        'call',
        'messages.send',
        '--roomId',
        created.id,
        '--body',
        'via call',
        '--idempotencyKey',
        'call-key-0001',
      ]),
    );
    const page = lines(
      ok(await alice.run(['--json', 'call', 'messages.list', '--roomId', created.id, '--limit', '5'])).stdout,
    )[0] as {
      messages: Message[];
    };
    expect(page.messages.map((m) => m.body)).toEqual(['via call']);
    const help = ok(await alice.run(['call', 'messages.list', '--help'])).stdout;
    expect(help).toContain('--limit <integer>  page size (optional, default 50)');
    const list = ok(await alice.run(['call', '--help'])).stdout;
    expect(list).toMatch(/rooms\.events\s+subscription/);

    // A subscription streams NDJSON until Ctrl-C, which ends it cleanly.
    const { startTether } = await import('./helpers');
    const stream = startTether(
      ['--json', 'call', 'rooms.events', '--roomId', created.id, '--lastEventId', '0'],
      alice.env,
    );
    const first = await new Promise<unknown>((resolve) => {
      let buffered = '';
      stream.stdout?.on('data', (chunk) => {
        buffered += chunk;
        if (buffered.includes('\n')) resolve(JSON.parse(buffered.split('\n')[0] as string));
      });
    });
    expect(first).toMatchObject({ id: '1', data: { type: 'member.joined', seq: 1 } });
    const exited = new Promise<number | null>((resolve) => stream.on('close', resolve));
    stream.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});

describe('tether import', () => {
  it("goes at the pace of the server's rate limit instead of failing", async () => {
    // A server of its own with a small HTTP rate: 20 calls at once, then 40 a second, per address.
    const limited = await spawnServer({ env: { TETHER_HTTP_RATE_PER_SECOND: '40', TETHER_HTTP_RATE_BURST: '20' } });
    const carol = await user('carol', limited);
    const room = unique('paced');
    ok(await carol.run(['rooms', 'create', room]));
    const count = 90;
    const file = join(carol.home, 'paced.ndjson');
    await writeFile(file, Array.from({ length: count }, (_, i) => JSON.stringify(`line ${i + 1}`)).join('\n'));

    const imported = await carol.run(['import', file, room]);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(`Imported ${count} messages`);
    // It did meet the limit: the server refused calls, and the import sent them again until they went in.
    const metrics = await (await fetch(`${limited.url}/metrics`)).text();
    expect(Number(/_limit_refusals_total\{limit="http_rate"\} (\d+)/.exec(metrics)?.[1] ?? 0)).toBeGreaterThan(0);
    const history = lines(ok(await carol.run(['--json', 'history', room, '--limit', '100'])).stdout)[0] as Message[];
    expect(history.map((m) => m.body).sort()).toEqual(Array.from({ length: count }, (_, i) => `line ${i + 1}`).sort());
  });

  it('imports an NDJSON file, and a re-run after an interruption sends only the rest', async () => {
    const alice = await user('alice');
    const room = unique('import');
    ok(await alice.run(['rooms', 'create', room]));
    const count = 600;
    const file = join(alice.home, 'messages.ndjson');
    await writeFile(
      file,
      Array.from({ length: count }, (_, i) => JSON.stringify({ body: `line ${i + 1}` })).join('\n'),
    );

    const { startTether } = await import('./helpers');
    const first = startTether(['import', file, room], alice.env);
    const interrupted = await new Promise<number | null>((resolve) => {
      let stderr = '';
      first.stderr?.on('data', (chunk) => {
        stderr += chunk;
        // The first progress line: part of the file is in. Stop it as Ctrl-C would.
        if (stderr.includes('import: ')) first.kill('SIGINT');
      });
      first.on('close', resolve);
    });
    expect(interrupted).not.toBe(0);

    const second = await alice.run(['import', file, room]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`Imported ${count} messages`);
    // Not a terminal: plain progress lines on stderr.
    expect(second.stderr).toMatch(/^import: \d+\/600 messages, \d+\/s, ETA \d+ s$/m);
    const all: Message[] = [];
    let before: number | undefined;
    for (;;) {
      const args = ['--json', 'history', room, '--limit', '100', ...(before ? ['--before', String(before)] : [])];
      const page = lines(ok(await alice.run(args)).stdout)[0] as Message[];
      all.push(...page);
      if (page.length < 100) break;
      before = page[0]?.seq;
    }
    const bodies = all.map((m) => m.body);
    expect(new Set(bodies).size).toBe(bodies.length);
    expect(bodies).toHaveLength(count);
  });
});
