import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type TransportName = 'websocket' | 'sse' | 'http';

/** What the transports report. Every method is cheap enough to call per frame. */
export interface TransportMetrics {
  connectionOpened(transport: TransportName): void;
  /** code: the WebSocket close code, or for SSE the equivalent code the stream ended with */
  connectionClosed(transport: TransportName, code: number): void;
  subscriptionStarted(transport: TransportName): void;
  subscriptionEnded(transport: TransportName): void;
  /** one finished call; outcome is 'ok' or the tRPC error code key (e.g. 'BAD_REQUEST') */
  call(transport: TransportName, path: string, outcome: string): void;
  bytesIn(transport: TransportName, bytes: number): void;
  bytesOut(transport: TransportName, bytes: number): void;
  /** a connection's unsent bytes after a write; keeps the high-water mark */
  sendBuffer(bytes: number): void;
  /** seconds from an event being published to its frame being written for one subscriber batch */
  fanOutLatency(seconds: number): void;
  /** a limit refused something: 'rate' | 'calls_per_frame' | 'subscriptions_per_connection' | 'subscriptions_per_principal' | 'connections' | 'connections_per_address' | 'connections_per_principal' | 'send_buffer' | 'http_rate' | 'batch_size' | string */
  limitExceeded(limit: string): void;
}

/** `TransportMetrics` backed by a prom-client registry of its own, rendered for a `/metrics` route. */
export interface Metrics extends TransportMetrics {
  readonly registry: Registry;
  /** The Content-Type of `render()`'s text (Prometheus text exposition format). */
  readonly contentType: string;
  render(): Promise<string>;
}

/** 0.1 ms .. 1 s: in-process fan-out is sub-millisecond, a slow store or a loaded event loop shows above. */
export const FANOUT_LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
] as const;

/** What a label value becomes once its label has seen too many distinct values. */
export const OTHER_LABEL = 'other';

/**
 * Distinct values kept per label. Paths, close codes and outcomes can come
 * from clients (a made-up procedure path, any close code 1000-4999): past
 * these, new values are counted under `other` instead of growing memory and
 * the scrape without bound.
 */
const MAX_DISTINCT = { transport: 16, path: 256, outcome: 64, code: 64, limit: 64 } as const;

function capped(max: number): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (seen.size >= max) return OTHER_LABEL;
    seen.add(value);
    return value;
  };
}

/** A level of a label-keyed tree of cells: its own (capped) label value, and the cells below by the next label. */
interface Branch<V> {
  readonly label: string;
  readonly next: Map<string, V>;
}

/**
 * `map`'s entry for `raw`, created on first use under `raw`'s capped label.
 * A value past the cap shares the `other` entry and is not cached itself, so
 * the map stays bounded; the common case is one `Map.get`.
 */
function lookup<V>(map: Map<string, V>, raw: string, cap: (value: string) => string, create: (label: string) => V): V {
  const found = map.get(raw);
  if (found !== undefined) return found;
  const label = cap(raw);
  let value = map.get(label);
  if (value === undefined) {
    value = create(label);
    map.set(label, value);
  }
  return value;
}

/**
 * A counter series whose increments collect in a plain number and reach
 * prom-client at scrape time: a prom-client `inc` hashes its label set on
 * every call (even on a `labels()` child, ~250 ns), this is an addition.
 */
interface CounterCell {
  pending: number;
  readonly child: { inc(value?: number): void };
}

/** `(...labels) => a new cell`; the counter pushes its cells' pending counts when collected. */
function deltaCounter(registry: Registry, name: string, help: string, labelNames: string[]) {
  const cells: CounterCell[] = [];
  const counter = new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      for (const cell of cells) {
        if (cell.pending === 0) continue;
        // A NaN or infinite count from a caller's bug is dropped here, off the hot path (prom-client would throw).
        if (Number.isFinite(cell.pending)) cell.child.inc(cell.pending);
        cell.pending = 0;
      }
    },
  });
  return (...labels: string[]): CounterCell => {
    const child = counter.labels(...labels);
    child.inc(0); // the series exists (at 0) from its first use, so rate() sees its start
    const cell = { pending: 0, child };
    cells.push(cell);
    return cell;
  };
}

/** A gauge per transport, kept as plain numbers and set when collected. */
function transportGauge(registry: Registry, name: string, help: string) {
  const values = new Map<string, { value: number }>();
  new Gauge({
    name,
    help,
    labelNames: ['transport'],
    registers: [registry],
    collect() {
      for (const [transport, cell] of values) this.labels(transport).set(cell.value);
    },
  });
  return values;
}

/**
 * Transport metrics on a registry of their own (never prom-client's global
 * one), with prom-client's default process and Node metrics beside them.
 * `prefix` (default `tether_`) names Tether's metrics only; the default
 * metrics keep their standard `process_*` and `nodejs_*` names.
 */
export function createMetrics(options: { prefix?: string } = {}): Metrics {
  const prefix = options.prefix ?? 'tether_';
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const transportLabel = capped(MAX_DISTINCT.transport);
  const pathLabel = capped(MAX_DISTINCT.path);
  const outcomeLabel = capped(MAX_DISTINCT.outcome);
  const codeLabel = capped(MAX_DISTINCT.code);
  const limitLabel = capped(MAX_DISTINCT.limit);

  const connections = transportGauge(registry, `${prefix}connections`, 'Open connections (opened minus closed).');
  const subscriptions = transportGauge(registry, `${prefix}subscriptions`, 'Active subscriptions.');
  const openedCounter = deltaCounter(registry, `${prefix}connections_opened_total`, 'Connections opened.', [
    'transport',
  ]);
  const closedCounter = deltaCounter(
    registry,
    `${prefix}connections_closed_total`,
    'Connections closed, by close code (WebSocket) or its equivalent (SSE).',
    ['transport', 'code'],
  );
  const callsCounter = deltaCounter(
    registry,
    `${prefix}calls_total`,
    "Finished calls, by procedure path and outcome ('ok' or the tRPC error code).",
    ['transport', 'path', 'outcome'],
  );
  const receivedCounter = deltaCounter(registry, `${prefix}bytes_received_total`, 'Bytes received from clients.', [
    'transport',
  ]);
  const sentCounter = deltaCounter(registry, `${prefix}bytes_sent_total`, 'Bytes sent to clients.', ['transport']);
  const refusalsCounter = deltaCounter(registry, `${prefix}limit_refusals_total`, 'Things a limit refused.', ['limit']);

  let sendBufferHighWater = 0;
  new Gauge({
    name: `${prefix}send_buffer_high_water_bytes`,
    help: "The most unsent bytes any connection's send buffer has held since the process started.",
    registers: [registry],
    collect() {
      this.set(sendBufferHighWater);
    },
  });
  const fanOut = new Histogram({
    name: `${prefix}fanout_latency_seconds`,
    help: 'Seconds from an event being published to its frame being written, per subscriber batch.',
    buckets: [...FANOUT_LATENCY_BUCKETS],
    registers: [registry],
  });

  const opened = new Map<string, CounterCell>();
  const received = new Map<string, CounterCell>();
  const sent = new Map<string, CounterCell>();
  const closed = new Map<string, Branch<CounterCell>>();
  const calls = new Map<string, Branch<Branch<CounterCell>>>();
  const refusals = new Map<string, CounterCell>();
  const branch = <V>(label: string): Branch<V> => ({ label, next: new Map() });
  const gaugeCell = (values: Map<string, { value: number }>, transport: string) =>
    lookup(values, transport, transportLabel, () => ({ value: 0 }));

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    connectionOpened(transport) {
      lookup(opened, transport, transportLabel, openedCounter).pending += 1;
      gaugeCell(connections, transport).value += 1;
    },
    connectionClosed(transport, code) {
      const byCode = lookup(closed, transport, transportLabel, branch<CounterCell>);
      lookup(byCode.next, String(code), codeLabel, (label) => closedCounter(byCode.label, label)).pending += 1;
      gaugeCell(connections, transport).value -= 1;
    },
    subscriptionStarted(transport) {
      gaugeCell(subscriptions, transport).value += 1;
    },
    subscriptionEnded(transport) {
      gaugeCell(subscriptions, transport).value -= 1;
    },
    call(transport, path, outcome) {
      const byPath = lookup(calls, transport, transportLabel, branch<Branch<CounterCell>>);
      const byOutcome = lookup(byPath.next, path, pathLabel, branch<CounterCell>);
      lookup(byOutcome.next, outcome, outcomeLabel, (label) =>
        callsCounter(byPath.label, byOutcome.label, label),
      ).pending += 1;
    },
    bytesIn(transport, bytes) {
      if (bytes > 0) lookup(received, transport, transportLabel, receivedCounter).pending += bytes;
    },
    bytesOut(transport, bytes) {
      if (bytes > 0) lookup(sent, transport, transportLabel, sentCounter).pending += bytes;
    },
    sendBuffer(bytes) {
      if (bytes > sendBufferHighWater) sendBufferHighWater = bytes;
    },
    fanOutLatency(seconds) {
      if (seconds >= 0) fanOut.observe(seconds);
    },
    limitExceeded(limit) {
      lookup(refusals, limit, limitLabel, refusalsCounter).pending += 1;
    },
  };
}

const noop = () => {};

/** Records nothing: for tests and benches that do not look at metrics. */
export const noopMetrics: TransportMetrics = {
  connectionOpened: noop,
  connectionClosed: noop,
  subscriptionStarted: noop,
  subscriptionEnded: noop,
  call: noop,
  bytesIn: noop,
  bytesOut: noop,
  sendBuffer: noop,
  fanOutLatency: noop,
  limitExceeded: noop,
};
