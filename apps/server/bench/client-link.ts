/**
 * The client bench: what `@tether/client` costs on top of the server, beside
 * a raw `ws` client and server measured in the same run. Three figures, each
 * quoted as a ratio to its raw baseline:
 *
 * 1. a no-op query (`connection.ping`) with 64 calls in flight on one client,
 *    against a raw `ws` echo of the same request frames;
 * 2. the same query one at a time (p50 round trip), against the raw echo;
 * 3. 1,000 clients, each on its own socket, connected and subscribed to a
 *    room until it says `synced`, against 1,000 raw sockets opened the same
 *    way (all at once, from this process).
 *
 * A minimal client speaking the wire to the same Tether server is measured
 * too, so the client's share and the server's can be told apart.
 *
 *   npx tsx bench/client-link.ts
 */
import { createTetherClient, type TetherClient } from '@tether/client/node';
import { killAllServers } from '@tether/testing';
import { WebSocket } from 'ws';
import { type LoopBounds, runClosedLoop } from './closed-loop';
import { buildServer, withTimeout } from './harness';
import { count, ratio, runBench, say } from './report';
import { stopAllChildren } from './transport/child';
import { percentile } from './transport/process-stats';
import { startRaw } from './transport/raw-target';
import { measureRpc, RPC_IN_FLIGHT } from './transport/rpc';
import { startTether, type TetherTarget } from './transport/tether-target';

const SUBSCRIBERS = 1_000;
const THROUGHPUT_BOUNDS: LoopBounds = { warmupMs: 1_000, durationMs: 4_000, maxOps: 2_000_000 };
const LATENCY_BOUNDS: LoopBounds = { warmupMs: 500, durationMs: 2_000, maxOps: 200_000 };
/** However slow, the subscribers' step ends: a bench never waits without bound. */
const SUBSCRIBE_TIMEOUT_MS = 120_000;

function clientOf(target: TetherTarget): TetherClient {
  // WebSocket only: the bench measures the link, not a fallback it never needs on loopback.
  return createTetherClient({ url: target.wsUrl, getToken: () => target.token, fallback: { enabled: false } });
}

async function clientRpc(target: TetherTarget) {
  const client = clientOf(target);
  try {
    await client.status.waitFor('connected');
    const call = async () => {
      await client.trpc.connection.ping.query();
    };
    await call();
    const throughput = await runClosedLoop(RPC_IN_FLIGHT, THROUGHPUT_BOUNDS, call);
    const latencies: number[] = [];
    const measureFrom = performance.now() + LATENCY_BOUNDS.warmupMs;
    await runClosedLoop(1, LATENCY_BOUNDS, async () => {
      const startedAt = performance.now();
      await call();
      if (startedAt >= measureFrom) latencies.push(performance.now() - startedAt);
    });
    return { perSecond: throughput.perSecond, p50: percentile(latencies, 50) };
  } finally {
    await client.dispose();
  }
}

/** SUBSCRIBERS clients at once, each subscribed until `synced`: ms from the first client made to the last synced. */
async function clientSubscribers(target: TetherTarget): Promise<number> {
  const clients: TetherClient[] = [];
  const startedAt = performance.now();
  try {
    const synced = Array.from({ length: SUBSCRIBERS }, () => {
      const client = clientOf(target);
      clients.push(client);
      return new Promise<void>((resolve, reject) => {
        client.trpc.rooms.events.subscribe(
          { roomId: target.roomId },
          {
            onData: ({ data }) => {
              if (data.type === 'synced') resolve();
            },
            onError: reject,
          },
        );
      });
    });
    await withTimeout(Promise.all(synced), SUBSCRIBE_TIMEOUT_MS, 'client subscribers');
    return performance.now() - startedAt;
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
  }
}

/** SUBSCRIBERS raw sockets at once: ms from the first socket made to the last open. */
async function rawSockets(url: string): Promise<number> {
  const sockets: WebSocket[] = [];
  const startedAt = performance.now();
  try {
    const opened = Array.from({ length: SUBSCRIBERS }, () => {
      const socket = new WebSocket(url, { perMessageDeflate: false });
      sockets.push(socket);
      return new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      });
    });
    await withTimeout(Promise.all(opened), SUBSCRIBE_TIMEOUT_MS, 'raw sockets');
    return performance.now() - startedAt;
  } finally {
    for (const socket of sockets) socket.terminate();
  }
}

async function main(): Promise<void> {
  buildServer();
  say(`client: @tether/client (WebSocket link) against the Tether server; baseline: a raw ws client and echo server`);

  const tether = await startTether();
  let wire: Awaited<ReturnType<typeof measureRpc>>;
  let client: Awaited<ReturnType<typeof clientRpc>>;
  let subscribersMs: number;
  try {
    wire = await measureRpc(tether.rpc);
    client = await clientRpc(tether);
    subscribersMs = await clientSubscribers(tether);
  } finally {
    await tether.stop();
  }
  const raw = await startRaw(tether);
  let echo: Awaited<ReturnType<typeof measureRpc>>;
  let rawMs: number;
  try {
    echo = await measureRpc(raw.rpc);
    rawMs = await rawSockets(raw.subscriber.url);
  } finally {
    await raw.stop();
  }

  const perSecond = (value: number) => `${count(value)} calls/s`;
  say(
    `client 1. ${RPC_IN_FLIGHT} in flight: @tether/client ${perSecond(client.perSecond)}; raw ws echo ${perSecond(echo.throughput.perSecond)}` +
      ` (${ratio(client.perSecond, echo.throughput.perSecond)}; bar ≥ 0.7x); a minimal wire client to the same server` +
      ` ${perSecond(wire.throughput.perSecond)} (${ratio(wire.throughput.perSecond, echo.throughput.perSecond)})`,
  );
  say(
    `client 2. one at a time, p50: @tether/client ${client.p50.toFixed(3)} ms; raw ws echo ${echo.sequentialP50Ms.toFixed(3)} ms` +
      ` (${ratio(client.p50, echo.sequentialP50Ms)}; bar ≤ 1.5x); minimal wire client ${wire.sequentialP50Ms.toFixed(3)} ms` +
      ` (${ratio(wire.sequentialP50Ms, echo.sequentialP50Ms)})`,
  );
  say(
    `client 3. ${count(SUBSCRIBERS)} clients connected, subscribed and synced: ${count(subscribersMs)} ms;` +
      ` ${count(SUBSCRIBERS)} raw ws sockets opened: ${count(rawMs)} ms (${ratio(subscribersMs, rawMs)}; bar ≤ 2x)`,
  );
}

await runBench(main, async () => {
  await stopAllChildren();
  await killAllServers();
});
