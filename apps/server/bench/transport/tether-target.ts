/**
 * Everything the transport bench knows about Tether, in one place: how to
 * start the server, sign in, open a room, subscribe, trigger an event and
 * recognise one on the wire. The rewrite adapts this file; the measurements
 * do not change.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PROTOCOL_VERSION } from '@tether/protocol/wire';
import { killAllServers, type ServerProcess, spawnServer } from '@tether/testing';
import { withTimeout } from '../harness';
import { type Driver, eventBody, type MemorySample, type ServerUnderTest } from './target';
import { resultOf, WireSocket } from './wire-socket';

const UNLIMITED = '1000000000';

/**
 * Every per-connection, per-address and per-principal limit out of the way:
 * the bench measures the transport, not its protections. Names a server does
 * not read are ignored (the last four are the rewrite's).
 */
const SERVER_ENV: Record<string, string> = {
  TETHER_RATE_PER_SECOND: UNLIMITED,
  TETHER_RATE_BURST: UNLIMITED,
  TETHER_MAX_CONNECTIONS: UNLIMITED,
  TETHER_MAX_SUBSCRIPTIONS: UNLIMITED,
  TETHER_MAX_CONNECTIONS_PER_ADDRESS: UNLIMITED,
  TETHER_MAX_SOCKETS_PER_ADDRESS: UNLIMITED,
  TETHER_MAX_CONNECTIONS_PER_PRINCIPAL: UNLIMITED,
  TETHER_MAX_SUBSCRIPTIONS_PER_PRINCIPAL: UNLIMITED,
  TETHER_MAX_CALLS_PER_FRAME: UNLIMITED,
  TETHER_WRITES_PER_MINUTE: UNLIMITED,
  TETHER_REPLAY_BYTES_PER_SECOND: UNLIMITED,
  TETHER_REPLAY_BYTE_BURST: UNLIMITED,
  TETHER_ROOMS_PER_HOUR: UNLIMITED,
  // Thousands of connections open at once: none may time out waiting for its turn.
  TETHER_HANDSHAKE_TIMEOUT_MS: '60000',
  // Not warn: spawnServer waits for the info-level `server.listening` line.
  LOG_LEVEL: 'info',
};

/** A no-op query (answers null): what the RPC loop calls. */
const HEALTH_PATH = 'connection.ping';
/** The fan-out's subscription and the mutation that feeds it. */
const EVENTS_PATH = 'rooms.events';
const SEND_PATH = 'messages.send';
/** A subscription is live once it has yielded `synced` (PROTOCOL.md, "Subscriptions and resume"). */
const READY_MARKER = '"type":"synced"';
/** A chat event frame: `rooms.events` yielding a `message.sent`. */
const EVENT_MARKER = '"type":"message.sent"';

const PROBE = fileURLToPath(new URL('./server-probe.cjs', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const PROBE_TIMEOUT_MS = 10_000;

/** tRPC's wire, superjson-transformed input (`{ json }`; no meta needed for plain JSON values). */
const frames = {
  handshake: (token: string) =>
    JSON.stringify({ method: 'connectionParams', data: { protocolVersion: String(PROTOCOL_VERSION), token } }),
  call: (id: number, method: 'query' | 'mutation' | 'subscription', path: string, input: unknown) =>
    JSON.stringify({ id, method, params: { path, input: { json: input } } }),
};

async function signUp(server: ServerProcess, username: string): Promise<string> {
  const response = await fetch(`${server.url}/trpc/auth.signUp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ json: { username, password: 'correct horse battery staple' } }),
    signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
  });
  const body = (await response.json()) as { result?: { data?: { json?: { accessToken?: string } } } };
  const token = body.result?.data?.json?.accessToken;
  if (!response.ok || !token) throw new Error(`sign-up failed: HTTP ${response.status} ${JSON.stringify(body)}`);
  return token;
}

/** The Tether server under test, and what a real client needs to reach it as the bench's user. */
export interface TetherTarget extends ServerUnderTest {
  readonly wsUrl: string;
  readonly token: string;
  readonly roomId: string;
}

export interface TetherOptions {
  /** Profile the server's main thread from start to exit into this directory. */
  cpuProfileDir?: string;
  /** Server processes (default 1); more than one need `env` to share a DATABASE_URL and a REDIS_URL. */
  nodes?: number;
  /** Added to every process's environment. */
  env?: Record<string, string>;
}

/** `nodes` processes with one token secret, so a token signed by one is good on all; the first migrates alone. */
async function spawnNodes(nodes: number, env: Record<string, string>): Promise<ServerProcess[]> {
  const tokenSecret = randomBytes(32).toString('base64url');
  const spawnOne = () => withTimeout(spawnServer({ env, tokenSecret }), START_TIMEOUT_MS, 'tether server start');
  const started = [await spawnOne()];
  // Settled, not all: a node that fails to start must not leave the others unstopped.
  const others = await Promise.allSettled(Array.from({ length: nodes - 1 }, spawnOne));
  for (const other of others) if (other.status === 'fulfilled') started.push(other.value);
  const failed = others.find((other) => other.status === 'rejected');
  if (failed) {
    await stopTether(started);
    throw failed.reason;
  }
  return started;
}

/**
 * The built server as child processes (spawnServer: fresh data dir each;
 * PGlite unless `env` names a DATABASE_URL), with the heap probe preloaded;
 * one user signed up and one public room it owns, both made on the first
 * process. Every socket, subscribers and driver alike, signs in as that
 * user; the driver, RPC loop and probe use the first process, subscribers
 * are spread over all. spawnServer's cleanup is process-wide: a target's
 * stop ends every server this process spawned, so targets held at the same
 * time are stopped together.
 */
export async function startTether(options: TetherOptions = {}): Promise<TetherTarget> {
  const env: Record<string, string> = {
    ...SERVER_ENV,
    ...options.env,
    NODE_OPTIONS: `--expose-gc --require ${PROBE}`,
  };
  if (options.cpuProfileDir) env.TETHER_BENCH_CPU_PROFILE_DIR = options.cpuProfileDir;
  const servers = await spawnNodes(options.nodes ?? 1, env);
  const [server] = servers;
  if (!server) throw new Error('no tether server started');
  try {
    const run = randomBytes(4).toString('hex');
    const token = await signUp(server, `bench-${run}`);
    const url = `${server.wsUrl}?connectionParams=1`;
    const handshake = frames.handshake(token);
    const setup = await WireSocket.open(url, [handshake]);
    const room = resultOf(
      await setup.call((id) =>
        frames.call(id, 'mutation', 'rooms.create', { name: `bench-${run}`, visibility: 'public' }),
      ),
      'rooms.create',
    ) as { data: { json: { id: string } } };
    setup.close();
    const roomId = room.data.json.id;
    const subscriber = {
      url,
      urls: servers.map((node) => `${node.wsUrl}?connectionParams=1`),
      openFrames: [handshake, frames.call(1, 'subscription', EVENTS_PATH, { roomId })],
      readyMarker: READY_MARKER,
      eventMarker: EVENT_MARKER,
    };

    let probes = 0;
    return {
      label: servers.length === 1 ? 'tether' : `tether × ${servers.length}`,
      pid: server.pid,
      pids: servers.map((node) => node.pid),
      wsUrl: server.wsUrl,
      token,
      roomId,
      rpc: {
        label: HEALTH_PATH,
        url,
        openFrames: [handshake],
        request: (id) => frames.call(id, 'query', HEALTH_PATH, null),
      },
      subscriber,
      async openDriver(): Promise<Driver> {
        const socket = await WireSocket.open(url, [handshake]);
        return {
          async send(n) {
            const input = { roomId, body: eventBody(n), idempotencyKey: `bench-${run}-${n}` };
            resultOf(await socket.call((id) => frames.call(id, 'mutation', SEND_PATH, input)), SEND_PATH);
          },
          close: () => socket.close(),
        };
      },
      async memory(): Promise<MemorySample> {
        const probe = ++probes;
        server.signal('SIGUSR2');
        const line = await withTimeout(
          server.waitForLog((l) => l.event === 'bench.memory' && l.probe === probe),
          PROBE_TIMEOUT_MS,
          'tether heap probe',
        );
        if (line.gc !== true) throw new Error('tether heap probe: gc() unavailable (--expose-gc missing)');
        return { heapUsedBytes: Number(line.heapUsed), rssBytes: Number(line.rss) };
      },
      warnings: () =>
        servers.flatMap((node, i) =>
          node.logs
            .filter((l) => l.level === 'warn' || l.level === 'error')
            .map((l) => (servers.length === 1 ? '' : `node ${i + 1}: `) + JSON.stringify(l)),
        ),
      stop: () => stopTether(servers),
    };
  } catch (error) {
    await stopTether(servers);
    throw error;
  }
}

/** Graceful (SIGTERM: each server drains and exits, the profile is written), then spawnServer's cleanup. */
async function stopTether(servers: readonly ServerProcess[]): Promise<void> {
  for (const server of servers) server.signal('SIGTERM');
  const allExited = Promise.all(servers.map((server) => server.exited)).then(() => true);
  const exited = await Promise.race([allExited, sleep(STOP_TIMEOUT_MS, false, { ref: false })]);
  await killAllServers();
  if (!exited) throw new Error(`tether server did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM`);
}
