/**
 * `pnpm bench`: `messages.send` throughput of the real server (the built
 * bundle as a child process, driven over WebSocket by the real client) on
 * each engine, each figure beside a bare-transaction baseline measured on the
 * same engine in the same run. Run with tsx from apps/server.
 */
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { killAllServers, type LogLine, type ServerProcess, spawnServer } from '@tether/testing';
import { type ChatRoom, openChatRoom } from './chat-clients';
import type { LoopBounds } from './closed-loop';
import { type Baseline, type Engine, pgliteEngine, postgresEngine } from './engines';
import { buildServer, withTimeout } from './harness';
import { count, mib, ratio, runBench, say } from './report';
import { messageBody, runSends, SCENARIOS } from './send-scenarios';

const BOUNDS: LoopBounds = { warmupMs: 1_000, durationMs: 5_000, maxOps: 100_000 };
/** RSS is compared after at least this many messages. */
const MESSAGES_FOR_RSS = 10_000;
const TOP_UP_BOUNDS: Omit<LoopBounds, 'maxOps'> = { warmupMs: 0, durationMs: 30_000 };
const USERS = 10;
const CONNECTIONS = 100;
const IDLE_SETTLE_MS = 1_000;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

const SERVER_ENV = {
  // The per-connection rate limit would measure itself, not the write path.
  TETHER_RATE_PER_SECOND: '1000000',
  TETHER_RATE_BURST: '1000000',
  TETHER_WRITES_PER_MINUTE: '100000000',
  // Not warn: spawnServer waits for the info-level `server.listening` line. Info
  // logs only connections opening and closing, nothing per send.
  LOG_LEVEL: 'info',
};

/** turbo builds before `bench`; building again costs a second and covers running this script directly. */
/** Graceful first, so the server closes its database connections; killAllServers SIGKILLs a laggard and removes data dirs. */
async function stopServer(server: ServerProcess): Promise<void> {
  server.signal('SIGTERM');
  await Promise.race([server.exited, sleep(STOP_TIMEOUT_MS, undefined, { ref: false })]);
  await killAllServers();
}

function baselineLabel({ connections }: Baseline): string {
  return `bare append tx (${connections} conn${connections === 1 ? '' : 's'})`;
}

function reportBaselines(engine: Engine, baselines: Baseline[]): void {
  const [reference, ...others] = baselines;
  if (!reference) throw new Error(`${engine.name}: no baseline`);
  const figures = baselines.map((baseline) => `${baselineLabel(baseline)}: ${count(baseline.result.perSecond)} tx/s`);
  // The other baselines are quoted against the reference, e.g. how the database scales from 1 to 10 connections.
  const ratios = others.map(
    (other) =>
      `${ratio(reference.result.perSecond, other.result.perSecond)} (${reference.connections} vs ${other.connections})`,
  );
  say(`${engine.name} ${[...figures, ...ratios].join(' | ')}`);
}

/** Drops and server warnings would skew the figures: they are printed, not hidden. */
function reportSurprises(engine: Engine, drops: readonly (number | null)[], logs: readonly LogLine[]): void {
  if (drops.length > 0)
    say(`${engine.name} WARNING: ${drops.length} connection drop(s), close codes ${drops.join(', ')}`);
  const problems = logs.filter((line) => line.level === 'warn' || line.level === 'error');
  for (const line of problems.slice(0, 5)) say(`${engine.name} server ${line.level}: ${JSON.stringify(line)}`);
  if (problems.length > 5) say(`${engine.name} ... and ${problems.length - 5} more server warnings/errors`);
}

/** Sends more, as the first scenario does, until `sent` reaches MESSAGES_FOR_RSS; returns how many it sent. */
async function topUp(room: ChatRoom, sent: number): Promise<number> {
  const [scenario] = SCENARIOS;
  if (!scenario || sent >= MESSAGES_FOR_RSS) return 0;
  const result = await runSends(room, scenario, { ...TOP_UP_BOUNDS, maxOps: MESSAGES_FOR_RSS - sent });
  return result.completedOps;
}

async function benchEngine(engine: Engine): Promise<void> {
  const baselines = await engine.measureBaselines(BOUNDS, messageBody);
  reportBaselines(engine, baselines);
  const [reference] = baselines;
  if (!reference) throw new Error(`${engine.name}: no baseline`);

  const server = await withTimeout(
    spawnServer({ env: { ...SERVER_ENV, ...engine.serverEnv } }),
    START_TIMEOUT_MS,
    'server start',
  );
  try {
    await sleep(IDLE_SETTLE_MS);
    const idle = await server.memory();
    const room = await openChatRoom(server.wsUrl, { users: USERS, connections: CONNECTIONS });
    try {
      let sent = 0;
      for (const scenario of SCENARIOS) {
        const result = await runSends(room, scenario, BOUNDS);
        sent += result.completedOps;
        say(
          `${engine.name} messages.send, ${scenario.label}: ${count(result.perSecond)} sends/s` +
            ` | ${baselineLabel(reference)}: ${count(reference.result.perSecond)} tx/s` +
            ` | ${ratio(result.perSecond, reference.result.perSecond)}`,
        );
      }
      sent += await topUp(room, sent);
      const after = await server.memory();
      say(
        `${engine.name} idle RSS after start: ${mib(idle.rssBytes)} | after ${count(sent)} messages: ${mib(after.rssBytes)}` +
          ` | ${ratio(after.rssBytes, idle.rssBytes)} | peak (VmHWM): ${mib(after.peakRssBytes)}`,
      );
      reportSurprises(engine, room.drops, server.logs);
    } finally {
      await room.dispose();
    }
  } finally {
    await stopServer(server);
  }
}

/** PostgreSQL only when the environment names one: the bench creates and drops its own database there. */
async function benchPostgres(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    // turbo runs tasks in strict env mode: the variable reaches this process only if turbo.json's bench task lists it.
    say(
      'postgres: skipped: DATABASE_URL is not set in the bench environment' +
        " (set it, e.g. postgres://postgres@127.0.0.1:5432/postgres; under turbo, the bench task's env must list it)",
    );
    return;
  }
  const postgres = await postgresEngine(adminUrl);
  try {
    await benchEngine(postgres);
  } finally {
    await postgres.dispose();
  }
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  say(`machine: ${availableParallelism()} cores, Node ${process.version}`);
  say(
    `each figure: ${BOUNDS.warmupMs} ms warm-up, then ${BOUNDS.durationMs} ms measured (at most ${count(BOUNDS.maxOps)} ops);` +
      ` sends use ${USERS} users on ${CONNECTIONS} connections, all in one room; bodies ~${messageBody(0).length} bytes`,
  );
  buildServer();
  await benchEngine(pgliteEngine());
  await benchPostgres();
  say(`done in ${count((performance.now() - startedAt) / 1000)} s`);
}

await runBench(main, killAllServers);
