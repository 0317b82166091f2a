/** How long and how much a load loop may run: every loop is bounded in count and in time. */
export interface LoopBounds {
  /** Operations before this are not measured: connections, JIT and caches settle first. */
  warmupMs: number;
  /** The measured window, after the warm-up. */
  durationMs: number;
  /** No operation starts once this many have started, whatever the time. */
  maxOps: number;
}

export interface LoopResult {
  /** Operations that completed inside the measured window. */
  measuredOps: number;
  measuredMs: number;
  perSecond: number;
  /** Every operation that completed, warm-up and stragglers included (they all wrote rows). */
  completedOps: number;
}

/**
 * Runs `op` from `workers` closed loops (each starts its next operation when
 * the previous one completes), so exactly `workers` operations are in flight.
 * The first failure stops every loop and is rethrown: an erroring run has no
 * meaningful throughput.
 */
export async function runClosedLoop(
  workers: number,
  bounds: LoopBounds,
  op: (worker: number, n: number) => Promise<void>,
): Promise<LoopResult> {
  const measureFrom = performance.now() + bounds.warmupMs;
  const deadline = measureFrom + bounds.durationMs;
  let started = 0;
  let completedOps = 0;
  let measuredOps = 0;
  let lastCompletionAt = measureFrom;
  let failure: { error: unknown } | undefined;

  const loop = async (worker: number) => {
    while (!failure && started < bounds.maxOps && performance.now() < deadline) {
      const n = started++;
      try {
        await op(worker, n);
      } catch (error) {
        failure ??= { error };
        return;
      }
      const now = performance.now();
      completedOps += 1;
      lastCompletionAt = now;
      if (now >= measureFrom && now <= deadline) measuredOps += 1;
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, worker) => loop(worker)));
  if (failure) throw failure.error;

  // Hitting maxOps first ends the window at the last completion instead of the deadline.
  const measuredMs = Math.min(deadline, lastCompletionAt) - measureFrom;
  if (measuredOps === 0 || measuredMs <= 0) {
    throw new Error(`nothing completed in the measured window (${completedOps} ops, maxOps ${bounds.maxOps})`);
  }
  return { measuredOps, measuredMs, perSecond: (measuredOps * 1000) / measuredMs, completedOps };
}

/** How an interleaved latency run is shaped: bounded in rounds, and in time and count per window. */
export interface InterleaveBounds {
  /** Rounds in all; in each, every operation runs one window, in turn. */
  rounds: number;
  /** The first rounds are not measured: connections, JIT and caches settle first. */
  warmupRounds: number;
  windowMs: number;
  maxOpsPerWindow: number;
}

/**
 * The round-trip times of each operation, one at a time, measured in short
 * windows that take turns (a, b, c, a, b, c, ...): whatever drifts in the
 * machine's speed over the run (another process, CPU frequency, the page
 * cache) falls on every operation alike, so their ratio holds still where two
 * runs one after the other would not. Returns every measured round trip, ms.
 */
export async function interleavedRoundTrips<K extends string>(
  ops: Record<K, () => Promise<void>>,
  bounds: InterleaveBounds,
): Promise<Record<K, number[]>> {
  const names = Object.keys(ops) as K[];
  const times = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < bounds.rounds; round += 1) {
    for (const name of names) {
      const op = ops[name];
      const windowEnd = performance.now() + bounds.windowMs;
      for (let n = 0; n < bounds.maxOpsPerWindow && performance.now() < windowEnd; n += 1) {
        const startedAt = performance.now();
        await op();
        if (round >= bounds.warmupRounds) times[name].push(performance.now() - startedAt);
      }
    }
  }
  return times;
}
