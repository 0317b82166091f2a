import type { Delivery, Fleet } from './load-fleet';
import { cpuMs, machineTicks, percentile } from './process-stats';
import { type ServerUnderTest, wallNow } from './target';

export const SUBSCRIBERS = 5_000;
export const BURST_EVENTS = 100;
export const ISOLATED_EVENTS = 30;
const BURST_DEADLINE_MS = 150_000;
const EVENT_DEADLINE_MS = 10_000;

export interface BurstFigures {
  /** Events delivered (subscribers × events, less any lost) / (first send -> last delivery to any subscriber). */
  eventsPerSecond: number;
  elapsedMs: number;
  /** First send -> every send acknowledged (Tether: committed and answered; raw: written). */
  acknowledgedMs: number;
  delivery: Delivery;
  /** CPU time of the server process (all its threads) over the window: 1 = one core busy throughout; summed over a cluster's. */
  serverCpuShare: number;
  /** The same for each server process, in the order of `target.pids`. */
  serverCpuShares: number[];
  /** Same for the load generators, summed. */
  loadCpuShare: number;
  /** Share of the machine's CPU time (all cores) left idle meanwhile. */
  machineIdleShare: number;
  /** The burst on the monotonic clock CPU profiles use (µs): first send -> deliveries reported. */
  monotonicMicros: { from: number; to: number };
}

const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);
const serversCpuMs = (target: ServerUnderTest) => Promise.all(target.pids.map(cpuMs));

/**
 * BURST_EVENTS events sent as fast as the driver may (all at once), each to
 * every subscriber; `before` is how many events each subscriber already has
 * and `firstEvent` numbers this burst's events.
 */
export async function runBurst(
  target: ServerUnderTest,
  fleet: Fleet,
  before: number,
  firstEvent: number,
): Promise<BurstFigures> {
  const driver = await target.openDriver();
  try {
    const serverCpuBefore = await serversCpuMs(target);
    const loadCpuBefore = await fleet.cpuMicros();
    const machineBefore = await machineTicks();
    const from = monotonicMicros();
    const startedAt = wallNow();
    const acknowledged = Promise.all(Array.from({ length: BURST_EVENTS }, (_, i) => driver.send(firstEvent + i))).then(
      () => wallNow(),
    );
    // Awaited below, after the deliveries: a failed send must not go unhandled meanwhile.
    acknowledged.catch(() => {});
    const delivery = await fleet.awaitEvents(before + BURST_EVENTS, BURST_DEADLINE_MS);
    const to = monotonicMicros();
    const acknowledgedAt = await acknowledged;
    const serverCpuAfter = await serversCpuMs(target);
    const machineAfter = await machineTicks();
    const elapsedMs = delivery.lastAt - startedAt;
    const serverCpuShares = serverCpuAfter.map((after, i) => (after - (serverCpuBefore[i] ?? 0)) / elapsedMs);
    return {
      eventsPerSecond: ((fleet.ready * BURST_EVENTS - delivery.missing) * 1000) / elapsedMs,
      elapsedMs,
      acknowledgedMs: acknowledgedAt - startedAt,
      delivery,
      serverCpuShare: serverCpuShares.reduce((sum, share) => sum + share, 0),
      serverCpuShares,
      loadCpuShare: (delivery.cpuMicros - loadCpuBefore) / 1000 / elapsedMs,
      machineIdleShare: (machineAfter.idle - machineBefore.idle) / (machineAfter.total - machineBefore.total),
      monotonicMicros: { from, to },
    };
  } finally {
    driver.close();
  }
}

export interface LatencyFigures {
  /** Receive time - send time over every subscriber and event, ms. */
  p50Ms: number;
  p99Ms: number;
  samples: number;
  /** Events sent before one failed to reach every subscriber in time (then the run stops). */
  events: number;
  incomplete: Delivery | null;
}

/**
 * ISOLATED_EVENTS events one at a time, each sent only once every subscriber
 * has the previous one: the latency of one event with nothing else in flight.
 */
export async function runIsolated(
  target: ServerUnderTest,
  fleet: Fleet,
  before: number,
  firstEvent: number,
): Promise<LatencyFigures> {
  const driver = await target.openDriver();
  const latencies: number[] = [];
  try {
    for (let k = 0; k < ISOLATED_EVENTS; k++) {
      const sentAt = wallNow();
      const acknowledged = driver.send(firstEvent + k);
      acknowledged.catch(() => {});
      const delivery = await fleet.awaitEvents(before + k + 1, EVENT_DEADLINE_MS);
      await acknowledged;
      for (const receivedAt of delivery.times) latencies.push(receivedAt - sentAt);
      if (!delivery.complete) {
        return { ...summarise(latencies), events: k + 1, incomplete: delivery };
      }
    }
    return { ...summarise(latencies), events: ISOLATED_EVENTS, incomplete: null };
  } finally {
    driver.close();
  }
}

function summarise(latencies: number[]): Pick<LatencyFigures, 'p50Ms' | 'p99Ms' | 'samples'> {
  return { p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), samples: latencies.length };
}
