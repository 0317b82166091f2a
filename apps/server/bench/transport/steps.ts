/**
 * The measurements of one server under test, each a function of the target
 * and nothing else: steps 1-4 (RPC loop, subscribers and their memory,
 * burst, isolated events), step 5 (many idle connections), and step 6's cut
 * of a CPU profile to the burst.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { count, say } from '../report';
import { BURST_EVENTS, type BurstFigures, type LatencyFigures, runBurst, runIsolated, SUBSCRIBERS } from './fanout';
import { type Fleet, openFleet } from './load-fleet';
import { formatSummary, readProfile, summariseProfile } from './profile-summary';
import { measureRpc, RPC_IN_FLIGHT, type RpcFigures } from './rpc';
import type { MemorySample, ServerUnderTest } from './target';

const WARM_UP_CONNECTIONS = 200;
const CONNECT_DEADLINE_MS = 150_000;
const FRAME_TIMEOUT_MS = 5_000;

export const seconds = (milliseconds: number) => `${(milliseconds / 1000).toFixed(1)} s`;

/** Every socket ready, or the figure is meaningless: fail with the reasons. */
function requireAllReady(target: ServerUnderTest, fleet: Fleet): void {
  if (fleet.ready !== fleet.size) {
    throw new Error(
      `${target.label}: only ${count(fleet.ready)} of ${count(fleet.size)} sockets ready: ${fleet.errors.join('; ')}`,
    );
  }
}

export interface MemoryFigures {
  connections: number;
  /** Close codes of connections that dropped while held: they would flatter the figure. */
  drops: Record<string, number>;
  heapPerConnection: number;
  rssPerConnection: number;
  loaded: MemorySample;
}

function perConnection(
  zero: MemorySample,
  loaded: MemorySample,
  connections: number,
  drops: Record<string, number>,
): MemoryFigures {
  return {
    connections,
    drops,
    heapPerConnection: (loaded.heapUsedBytes - zero.heapUsedBytes) / connections,
    rssPerConnection: (loaded.rssBytes - zero.rssBytes) / connections,
    loaded,
  };
}

export interface ServerFigures {
  /** What the RPC loop called. */
  rpcLabel: string;
  rpc: RpcFigures;
  connectMs: number;
  memory: MemoryFigures;
  burst: BurstFigures;
  latency: LatencyFigures;
  /** The first chat event frame a subscriber received. */
  frame: Buffer | null;
}

/** Opens and closes a few sockets, so code paths are compiled before a zero-connection heap is taken. */
export async function warmUp(target: ServerUnderTest): Promise<void> {
  const fleet = await openFleet(target.subscriber, WARM_UP_CONNECTIONS, { deadlineMs: CONNECT_DEADLINE_MS });
  requireAllReady(target, fleet);
  await fleet.close();
}

/** SUBSCRIBERS subscribed sockets of `target`, every one ready (or it throws); the caller closes them. */
export async function openSubscribers(target: ServerUnderTest, captureFrame: boolean): Promise<Fleet> {
  const fleet = await openFleet(target.subscriber, SUBSCRIBERS, { captureFrame, deadlineMs: CONNECT_DEADLINE_MS });
  try {
    requireAllReady(target, fleet);
  } catch (error) {
    await fleet.close();
    throw error;
  }
  say(`${target.label}: ${count(SUBSCRIBERS)} subscribed in ${seconds(fleet.connectMs)}`);
  return fleet;
}

/**
 * Step 2 on subscribers that have `before` events each (events 0..before-1
 * sent): the burst, then, if it all arrived, events one at a time.
 */
export async function burstThenIsolated(
  target: ServerUnderTest,
  fleet: Fleet,
  before = 0,
): Promise<{ burst: BurstFigures; latency: LatencyFigures }> {
  const burst = await runBurst(target, fleet, before, before);
  say(`${target.label}: burst ${count(burst.eventsPerSecond)} events/s`);
  const latency = burst.delivery.complete
    ? await runIsolated(target, fleet, before + BURST_EVENTS, before + BURST_EVENTS)
    : { p50Ms: Number.NaN, p99Ms: Number.NaN, samples: 0, events: 0, incomplete: burst.delivery };
  return { burst, latency };
}

/** Steps 1-4 on one server: RPC loop, subscribers (memory before and after), burst, isolated events. */
export async function measureServer(target: ServerUnderTest, captureFrame: boolean): Promise<ServerFigures> {
  const rpc = await measureRpc(target.rpc);
  say(`${target.label}: rpc ${count(rpc.throughput.perSecond)}/s with ${RPC_IN_FLIGHT} in flight`);
  await warmUp(target);
  const zero = await target.memory();
  const fleet = await openSubscribers(target, captureFrame);
  try {
    const memory = perConnection(zero, await target.memory(), SUBSCRIBERS, await fleet.dropped());
    const { burst, latency } = await burstThenIsolated(target, fleet);
    const frame = captureFrame ? await fleet.firstEventFrame(FRAME_TIMEOUT_MS) : null;
    return { rpcLabel: target.rpc.label, rpc, connectMs: fleet.connectMs, memory, burst, latency, frame };
  } finally {
    await fleet.close();
  }
}

export interface ProfileFigures {
  profilePath: string;
  window: { from: number; to: number };
  table: string[];
}

/** Step 6: the profile the step-2 server wrote when it exited, cut to its burst. */
export async function summariseBurst(profileDir: string, burst: BurstFigures): Promise<ProfileFigures> {
  const [file] = (await readdir(profileDir)).filter((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${profileDir}: did the server exit cleanly?`);
  const profilePath = join(profileDir, file);
  const window = burst.monotonicMicros;
  const table = formatSummary(summariseProfile(readProfile(profilePath), window));
  return { profilePath, window, table };
}

export interface ManyFigures {
  memory: MemoryFigures;
  connectMs: number;
  ready: number;
  errors: readonly string[];
  processes: number;
  sourceAddresses: number;
}

/** Step 5: `connections` idle subscribed sockets on one server process. */
export async function manyConnections(target: ServerUnderTest, connections: number): Promise<ManyFigures> {
  await warmUp(target);
  const zero = await target.memory();
  const fleet = await openFleet(target.subscriber, connections, { deadlineMs: CONNECT_DEADLINE_MS });
  try {
    say(
      `${target.label}: ${count(fleet.ready)} of ${count(connections)} idle connections in ${seconds(fleet.connectMs)}`,
    );
    const loaded = await target.memory();
    return {
      memory: perConnection(zero, loaded, fleet.ready, await fleet.dropped()),
      connectMs: fleet.connectMs,
      ready: fleet.ready,
      errors: fleet.errors,
      processes: fleet.processes,
      sourceAddresses: fleet.sourceAddresses,
    };
  } finally {
    await fleet.close();
  }
}
