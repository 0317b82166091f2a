import { type LoopBounds, type LoopResult, runClosedLoop } from '../closed-loop';
import { percentile } from './process-stats';
import type { RpcPlan } from './target';
import { resultOf, WireSocket } from './wire-socket';

export const RPC_IN_FLIGHT = 64;
export const THROUGHPUT_BOUNDS: LoopBounds = { warmupMs: 1_000, durationMs: 4_000, maxOps: 2_000_000 };
const LATENCY_BOUNDS: LoopBounds = { warmupMs: 500, durationMs: 2_000, maxOps: 200_000 };

export interface RpcFigures {
  /** RPC_IN_FLIGHT calls kept in flight on one socket. */
  throughput: LoopResult;
  /** One call at a time: the median round trip, ms. */
  sequentialP50Ms: number;
  sequentialP99Ms: number;
}

/** Calls on `socket`; the first also waits out the handshake (sign-in), before any clock starts. */
async function callerOn(socket: WireSocket, plan: RpcPlan): Promise<() => Promise<void>> {
  const call = async () => {
    resultOf(await socket.call(plan.request), 'rpc call');
  };
  await call();
  return call;
}

/** RPC_IN_FLIGHT calls kept in flight on one socket, as a minimal client speaking the wire would. */
export async function measureThroughput(plan: RpcPlan): Promise<LoopResult> {
  const socket = await WireSocket.open(plan.url, plan.openFrames);
  try {
    return await runClosedLoop(RPC_IN_FLIGHT, THROUGHPUT_BOUNDS, await callerOn(socket, plan));
  } finally {
    socket.close();
  }
}

/**
 * Calls over one socket, as a minimal client speaking the wire would: first
 * RPC_IN_FLIGHT in flight (calls/s), then one at a time (round-trip latency).
 * An error answer fails the figure.
 */
export async function measureRpc(plan: RpcPlan): Promise<RpcFigures> {
  const socket = await WireSocket.open(plan.url, plan.openFrames);
  try {
    const call = await callerOn(socket, plan);
    const throughput = await runClosedLoop(RPC_IN_FLIGHT, THROUGHPUT_BOUNDS, call);
    const latencies: number[] = [];
    const measureFrom = performance.now() + LATENCY_BOUNDS.warmupMs;
    await runClosedLoop(1, LATENCY_BOUNDS, async () => {
      const startedAt = performance.now();
      await call();
      if (startedAt >= measureFrom) latencies.push(performance.now() - startedAt);
    });
    return {
      throughput,
      sequentialP50Ms: percentile(latencies, 50),
      sequentialP99Ms: percentile(latencies, 99),
    };
  } finally {
    socket.close();
  }
}
