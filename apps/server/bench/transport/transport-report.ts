/** The transport bench's report lines: each figure beside its raw `ws` baseline, with tether / raw as the ratio. */
import { availableParallelism } from 'node:os';
import { count, mib, ratio, say } from '../report';
import { BURST_EVENTS, type BurstFigures, ISOLATED_EVENTS, type LatencyFigures, SUBSCRIBERS } from './fanout';
import type { Delivery } from './load-fleet';
import { RPC_IN_FLIGHT } from './rpc';
import { type ManyFigures, type MemoryFigures, type ServerFigures, seconds } from './steps';
import { BODY_BYTES, type ServerUnderTest } from './target';

export const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const percent = (share: number) => `${Math.round(share * 100)}%`;

export function lossLine(delivery: Delivery, expected: number): string {
  const codes = Object.entries(delivery.closeCodes);
  if (delivery.complete && delivery.over === 0 && codes.length === 0) return `none (all got ${expected})`;
  const parts = [`${count(delivery.short)} subscriber(s) short by ${count(delivery.missing)} event(s) in all`];
  if (delivery.over > 0) parts.push(`${count(delivery.over)} got more than ${expected}`);
  if (codes.length > 0) parts.push(`closed: ${codes.map(([code, n]) => `${n}× ${code}`).join(', ')}`);
  return parts.join('; ');
}

export function reportWarnings(target: ServerUnderTest): void {
  const warnings = target.warnings();
  for (const line of warnings.slice(0, 5)) say(`${target.label} server warning: ${line}`);
  if (warnings.length > 5) say(`${target.label}: ... and ${warnings.length - 5} more server warnings`);
}

/** Connections dropped while the memory was taken, if any. */
function dropNote(label: string, memory: MemoryFigures): string {
  const codes = Object.entries(memory.drops);
  return codes.length === 0 ? '' : ` [${label}: ${codes.map(([code, n]) => `${n}× closed ${code}`).join(', ')}]`;
}

/** Who was busy during a burst: one core fully busy is 100% (a process's figure counts all its threads). */
export function cpuNote(burst: BurstFigures): string {
  const server =
    burst.serverCpuShares.length === 1
      ? `server process ${percent(burst.serverCpuShare)}`
      : `server processes ${burst.serverCpuShares.map(percent).join(' + ')}`;
  // What neither used: the driver, the database, Redis, and whatever else runs on the machine meanwhile.
  const busy = availableParallelism() * (1 - burst.machineIdleShare);
  const rest = Math.max(0, busy - burst.serverCpuShare - burst.loadCpuShare);
  return (
    `CPU: ${server}, load generators ${percent(burst.loadCpuShare)}, everything else ${percent(rest)},` +
    ` machine idle ${percent(burst.machineIdleShare)} of ${availableParallelism()} cores`
  );
}

export function reportFigures(tether: ServerFigures, raw: ServerFigures): void {
  const t = tether;
  const r = raw;
  say(
    `1. rpc, ${RPC_IN_FLIGHT} in flight on one socket: tether ${t.rpcLabel} ${count(t.rpc.throughput.perSecond)} calls/s` +
      ` | raw ws ${r.rpcLabel} ${count(r.rpc.throughput.perSecond)} echoes/s | ${ratio(t.rpc.throughput.perSecond, r.rpc.throughput.perSecond)}`,
  );
  say(
    `1. rpc, sequential (1 in flight) p50: tether ${ms(t.rpc.sequentialP50Ms)} | raw ws ${ms(r.rpc.sequentialP50Ms)}` +
      ` | ${ratio(t.rpc.sequentialP50Ms, r.rpc.sequentialP50Ms)} (p99: tether ${ms(t.rpc.sequentialP99Ms)}, raw ws ${ms(r.rpc.sequentialP99Ms)})`,
  );
  say(
    `2. fan-out, ${count(SUBSCRIBERS)} subscribers × ${BURST_EVENTS} events: tether ${count(t.burst.eventsPerSecond)} events/s` +
      ` | raw ws broadcast ${count(r.burst.eventsPerSecond)} events/s | ${ratio(t.burst.eventsPerSecond, r.burst.eventsPerSecond)}`,
  );
  say(
    `2. fan-out burst: tether ${seconds(t.burst.elapsedMs)} first send -> last delivery` +
      ` (sends all acknowledged after ${ms(t.burst.acknowledgedMs)}; ${cpuNote(t.burst)})` +
      ` | raw ws ${seconds(r.burst.elapsedMs)} (${cpuNote(r.burst)})`,
  );
  say(
    `2. fan-out loss: tether ${lossLine(t.burst.delivery, BURST_EVENTS)} | raw ws ${lossLine(r.burst.delivery, BURST_EVENTS)}`,
  );
  const latencyNote = (label: string, l: LatencyFigures) =>
    l.incomplete
      ? ` [${label} INCOMPLETE after ${l.events} events: ${lossLine(l.incomplete, BURST_EVENTS + l.events)}]`
      : '';
  say(
    `2. isolated latency, ${ISOLATED_EVENTS} events one at a time to ${count(SUBSCRIBERS)}: p50 tether ${ms(t.latency.p50Ms)}` +
      ` | raw ws ${ms(r.latency.p50Ms)} | ${ratio(t.latency.p50Ms, r.latency.p50Ms)}` +
      `; p99 tether ${ms(t.latency.p99Ms)} | raw ws ${ms(r.latency.p99Ms)} | ${ratio(t.latency.p99Ms, r.latency.p99Ms)}` +
      ` (${count(t.latency.samples)} and ${count(r.latency.samples)} samples)` +
      latencyNote('tether', t.latency) +
      latencyNote('raw ws', r.latency),
  );
  say(
    `2. connect + subscribe ${count(SUBSCRIBERS)}: tether ${seconds(t.connectMs)} | raw ws connect ${seconds(r.connectMs)}` +
      ` | ${ratio(t.connectMs, r.connectMs)}`,
  );
  if (t.frame) {
    const text = t.frame.toString();
    say(
      `3. chat event frame for a ${BODY_BYTES}-byte body: ${count(t.frame.length)} bytes` +
        ` (${text.slice(0, 160)}${text.length > 160 ? '...' : ''})`,
    );
  }
  say(
    `4. heap per idle subscribed connection (${count(SUBSCRIBERS)}): tether ${kib(t.memory.heapPerConnection)}` +
      ` | raw ws ${kib(r.memory.heapPerConnection)} | ${ratio(t.memory.heapPerConnection, r.memory.heapPerConnection)}` +
      `; RSS per connection: tether ${kib(t.memory.rssPerConnection)} | raw ws ${kib(r.memory.rssPerConnection)}` +
      ` | ${ratio(t.memory.rssPerConnection, r.memory.rssPerConnection)}` +
      dropNote('tether', t.memory) +
      dropNote('raw ws', r.memory),
  );
}

export function reportMany(tether: ManyFigures, raw: ManyFigures, connections: number, why: string): void {
  for (const [label, figures] of [
    ['tether', tether],
    ['raw ws', raw],
  ] as const) {
    if (figures.ready < connections) {
      say(
        `5. WARNING ${label}: only ${count(figures.ready)} of ${count(connections)} connected: ${figures.errors.join('; ')}`,
      );
    }
  }
  say(
    `5. many connections: ${count(connections)} idle connections (subscribed, for tether) on one process (${why});` +
      ` ${tether.processes} load-generator processes, ${tether.sourceAddresses} source addresses`,
  );
  say(
    `5. at ${count(connections)}: heap per connection tether ${kib(tether.memory.heapPerConnection)} | raw ws ${kib(raw.memory.heapPerConnection)}` +
      ` | ${ratio(tether.memory.heapPerConnection, raw.memory.heapPerConnection)}` +
      `; RSS per connection tether ${kib(tether.memory.rssPerConnection)} | raw ws ${kib(raw.memory.rssPerConnection)}` +
      ` | ${ratio(tether.memory.rssPerConnection, raw.memory.rssPerConnection)}` +
      dropNote('tether', tether.memory) +
      dropNote('raw ws', raw.memory),
  );
  say(
    `5. at ${count(connections)}: server RSS tether ${mib(tether.memory.loaded.rssBytes)}, heap ${mib(tether.memory.loaded.heapUsedBytes)}` +
      ` | raw ws RSS ${mib(raw.memory.loaded.rssBytes)}, heap ${mib(raw.memory.loaded.heapUsedBytes)}` +
      `; connect: tether ${seconds(tether.connectMs)} | raw ws ${seconds(raw.connectMs)} | ${ratio(tether.connectMs, raw.connectMs)}`,
  );
}
