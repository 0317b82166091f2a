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
