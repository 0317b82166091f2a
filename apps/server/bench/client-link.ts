/**
 * The client bench: what `@tether/client` costs on top of the server, beside
 * a raw `ws` client and server measured in the same run. Three figures, each
 * quoted as a ratio to its raw baseline:
 *
 * 1. a no-op query (`connection.ping`) with 64 calls in flight on one client,
 *    against a raw `ws` echo of the same request frames;
 * 2. the same query one at a time (p50 round trip), against the raw echo,
 *    the two measured in alternating windows while both servers run, so that
 *    drift in the machine's speed cannot favour either;
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
import { type InterleaveBounds, interleavedRoundTrips, runClosedLoop } from './closed-loop';
import { buildServer, withTimeout } from './harness';
import { count, ratio, runBench, say } from './report';
import { stopAllChildren } from './transport/child';
import { percentile } from './transport/process-stats';
import { type RawTarget, startRaw } from './transport/raw-target';
import { measureThroughput, RPC_IN_FLIGHT, THROUGHPUT_BOUNDS } from './transport/rpc';
import { startTether, type TetherTarget } from './transport/tether-target';
import { resultOf, WireSocket } from './transport/wire-socket';

const SUBSCRIBERS = 1_000;
/** 14 rounds of three 250 ms windows: about 10 s, 1 s of it warm-up. */
const LATENCY_BOUNDS: InterleaveBounds = { rounds: 14, warmupRounds: 2, windowMs: 250, maxOpsPerWindow: 25_000 };
/** However slow, the subscribers' step ends: a bench never waits without bound. */
const SUBSCRIBE_TIMEOUT_MS = 120_000;

function clientOf(target: TetherTarget): TetherClient {
  // WebSocket only: the bench measures the link, not a fallback it never needs on loopback.
  return createTetherClient({ url: target.wsUrl, getToken: () => target.token, fallback: { enabled: false } });
}

/** Calls/s with RPC_IN_FLIGHT calls in flight on one client. */
async function clientThroughput(client: TetherClient): Promise<number> {
  const call = async () => {
    await client.trpc.connection.ping.query();
  };
  await call();
  return (await runClosedLoop(RPC_IN_FLIGHT, THROUGHPUT_BOUNDS, call)).perSecond;
}

/** One call at a time, p50 round trip, ms: the client, a minimal wire client to the same server and the raw echo, taking turns. */
async function sequentialP50(client: TetherClient, tether: TetherTarget, raw: RawTarget) {
  const wire = await WireSocket.open(tether.rpc.url, tether.rpc.openFrames);
  const echo = await WireSocket.open(raw.rpc.url, raw.rpc.openFrames);
  try {
    const times = await interleavedRoundTrips(
      {
        echo: async () => {
          resultOf(await echo.call(raw.rpc.request), 'raw echo');
        },
        wire: async () => {
          resultOf(await wire.call(tether.rpc.request), 'wire client call');
        },
        client: async () => {
          await client.trpc.connection.ping.query();
        },
      },
      LATENCY_BOUNDS,
    );
    return { echo: percentile(times.echo, 50), wire: percentile(times.wire, 50), client: percentile(times.client, 50) };
  } finally {
    wire.close();
    echo.close();
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
  const raw = await startRaw(tether);
  let throughput: { client: number; wire: number; echo: number };
  let p50: Awaited<ReturnType<typeof sequentialP50>>;
  let subscribersMs: number;
  let rawMs: number;
  try {
    const client = clientOf(tether);
    try {
      await client.status.waitFor('connected');
      throughput = {
        wire: (await measureThroughput(tether.rpc)).perSecond,
        client: await clientThroughput(client),
        echo: (await measureThroughput(raw.rpc)).perSecond,
      };
      p50 = await sequentialP50(client, tether, raw);
    } finally {
      await client.dispose();
    }
    subscribersMs = await clientSubscribers(tether);
    rawMs = await rawSockets(raw.subscriber.url);
  } finally {
    await Promise.all([tether.stop(), raw.stop()]);
  }

  const perSecond = (value: number) => `${count(value)} calls/s`;
  say(
    `client 1. ${RPC_IN_FLIGHT} in flight: @tether/client ${perSecond(throughput.client)}; raw ws echo ${perSecond(throughput.echo)}` +
      ` (${ratio(throughput.client, throughput.echo)}; bar ≥ 0.7x); a minimal wire client to the same server` +
      ` ${perSecond(throughput.wire)} (${ratio(throughput.wire, throughput.echo)})`,
  );
  say(
    `client 2. one at a time, p50, in alternating windows: @tether/client ${p50.client.toFixed(3)} ms; raw ws echo ${p50.echo.toFixed(3)} ms` +
      ` (${ratio(p50.client, p50.echo)}; bar ≤ 1.5x); minimal wire client ${p50.wire.toFixed(3)} ms` +
      ` (${ratio(p50.wire, p50.echo)})`,
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
