import { isTrackedEnvelope, type TRPCCombinedDataTransformer } from '@trpc/server';
import type { TransportMetrics } from '../observability/metrics';

/**
 * Serialize once, frame per subscriber. A subscription yields the same event
 * object to every subscriber of a room (the bus hands them the one object), so
 * what a frame carries besides the subscription id is computed once per event
 * and kept beside the object for as long as it lives.
 */
interface SerializedEvent {
  /** The tracked id it was serialized with, if any. */
  id: string | undefined;
  /** tRPC's WebSocket `result` member, as JSON bytes. */
  websocket?: Buffer;
  /**
   * Whole frames by their prefix (`{"id":…,"result":`): subscribers whose
   * subscriptions share an id (clients number them alike) share one buffer.
   */
  frames?: Map<string, Buffer>;
  /** The SSE `data:` payload. */
  sse?: string;
}

const serialized = new WeakMap<object, SerializedEvent>();

/**
 * Every subscriber of an event on this process gets it within the same turn
 * of the event loop (the bus hands it to all of them at once), so the time from
 * its first frame to the end of that turn is its fan-out latency.
 */
function timeFanOut(metrics: TransportMetrics): void {
  const startedAt = performance.now();
  setImmediate(() => metrics.fanOutLatency((performance.now() - startedAt) / 1000));
}

function entryFor(
  value: unknown,
  metrics: TransportMetrics,
): { id: string | undefined; data: unknown; entry: SerializedEvent | null } {
  const [id, data] = isTrackedEnvelope(value) ? [value[0], value[1]] : [undefined, value];
  if (typeof data !== 'object' || data === null) return { id, data, entry: null };
  let entry = serialized.get(data);
  if (!entry || entry.id !== id) {
    entry = { id };
    serialized.set(data, entry);
    timeFanOut(metrics);
  }
  return { id, data, entry };
}

/** Whether a yielded value is ephemeral: untracked items carry no resume point (presence, typing). */
export const isEphemeral = (value: unknown): boolean => !isTrackedEnvelope(value);

/**
 * The `result` member of tRPC's WebSocket data message for `value`, byte for
 * byte what tRPC's own adapter sends: `{"type":"data","data":…}` and, for a
 * tracked item, its id both in the payload and beside it.
 */
function websocketResult(transformer: TRPCCombinedDataTransformer, value: unknown, metrics: TransportMetrics): Buffer {
  const { id, data, entry } = entryFor(value, metrics);
  if (entry?.websocket) return entry.websocket;
  const result =
    id === undefined
      ? { type: 'data', data: transformer.output.serialize(data) }
      : { type: 'data', data: transformer.output.serialize({ id, data }), id };
  const bytes = Buffer.from(JSON.stringify(result));
  if (entry) entry.websocket = bytes;
  return bytes;
}

const CLOSE_BRACE = Buffer.from('}');
/** Past this many distinct subscription ids an event keeps no more whole frames: memory stays bounded. */
const MAX_SHARED_FRAMES = 64;

/**
 * tRPC's WebSocket data message for `value` on the subscription whose frames
 * start with `prefix`: built once per event and id, then shared.
 */
export function websocketFrame(
  transformer: TRPCCombinedDataTransformer,
  value: unknown,
  prefix: string,
  metrics: TransportMetrics,
): Buffer {
  const { entry } = entryFor(value, metrics);
  const shared = entry?.frames?.get(prefix);
  if (shared) return shared;
  const frame = Buffer.concat([Buffer.from(prefix), websocketResult(transformer, value, metrics), CLOSE_BRACE]);
  if (entry) {
    entry.frames ??= new Map();
    if (entry.frames.size < MAX_SHARED_FRAMES) entry.frames.set(prefix, frame);
  }
  return frame;
}

/** The SSE event for `value`: tRPC's `data:` line (and `id:` for a tracked item). */
export function sseData(
  transformer: TRPCCombinedDataTransformer,
  value: unknown,
  metrics: TransportMetrics,
): { id: string | undefined; data: string } {
  const { id, data, entry } = entryFor(value, metrics);
  if (entry?.sse !== undefined) return { id, data: entry.sse };
  const text = JSON.stringify(transformer.output.serialize(data));
  if (entry) entry.sse = text;
  return { id, data: text };
}
