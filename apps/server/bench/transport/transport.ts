/**
 * The transport bench: RPC throughput and latency, fan-out, frame size,
 * memory per connection, many connections, and a CPU profile of the fan-out,
 * for the Tether server (tether-target.ts) beside a raw `ws` server
 * (raw-server.ts) measured in the same run on the same machine; every figure
 * is quoted with its ratio to the raw one (tether / raw ws). Servers and
 * load generators are child processes, all on loopback. Run from apps/server:
 *
 *   npx tsx bench/transport/transport.ts
 *
 * tether-target.ts is all the bench knows of Tether (start, sign in, room,
 * subscribe, send, event frame); raw-server.ts and raw-target.ts are the
 * baseline; rpc.ts, fanout.ts and steps.ts measure; load-generator.ts
 * (a child process) and load-fleet.ts hold the sockets; server-probe.cjs is
 * preloaded into the Tether server for its heap and CPU profile;
 * profile-summary.ts summarises a .cpuprofile (also on its own);
 * transport-report.ts prints.
 */
import { mkdtemp } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAllServers } from '@tether/testing';
import { buildServer } from '../harness';
import { count, runBench, say } from '../report';
import { stopAllChildren } from './child';
import { BURST_EVENTS, ISOLATED_EVENTS, SUBSCRIBERS } from './fanout';
import { SOCKETS_PER_PROCESS } from './load-fleet';
import { descriptorLimit, openDescriptors } from './process-stats';
import { startRaw } from './raw-target';
import { RPC_IN_FLIGHT } from './rpc';
import { type ManyFigures, manyConnections, measureServer, type ServerFigures, seconds, summariseBurst } from './steps';
import { BODY_BYTES } from './target';
import { startTether } from './tether-target';
import { reportFigures, reportMany, reportWarnings } from './transport-report';

/** The ask for one server process. */
const MANY_CONNECTIONS_GOAL = 50_000;
/** Descriptors kept free for the server's own files, and what the count is rounded down to. */
const DESCRIPTOR_HEADROOM = 100;
const MANY_CONNECTIONS_STEP = 500;

/** As many connections as one process's descriptors allow, at most the 50,000. */
async function manyConnectionsCount(pid: number): Promise<{ connections: number; why: string }> {
  const limit = await descriptorLimit(pid);
  const used = await openDescriptors(pid);
  const room = Math.floor((limit - used - DESCRIPTOR_HEADROOM) / MANY_CONNECTIONS_STEP) * MANY_CONNECTIONS_STEP;
  if (room >= MANY_CONNECTIONS_GOAL) return { connections: MANY_CONNECTIONS_GOAL, why: 'the issue asks 50,000' };
  return {
    connections: room,
    why:
      `the issue asks ${count(MANY_CONNECTIONS_GOAL)}, but one process here may hold at most ${count(limit)} descriptors` +
      ` (hard RLIMIT_NOFILE, cannot be raised) and the Tether server holds ${count(used)} of its own`,
  };
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  say(
    `machine: ${availableParallelism()} cores, Node ${process.version}; everything on 127.0.0.1; ratios are tether / raw ws`,
  );
  say(
    `rpc: ${RPC_IN_FLIGHT} in flight then 1 in flight on one raw socket; fan-out: ${count(SUBSCRIBERS)} subscribers,` +
      ` ${BURST_EVENTS} events of a ${BODY_BYTES}-byte body, then ${ISOLATED_EVENTS} one at a time;` +
      ` load generators hold up to ${count(SOCKETS_PER_PROCESS)} sockets each`,
  );
  buildServer();

  // Steps 1-4 and 6: Tether first, so its event frame is what the raw broadcast sends. Its server profiles
  // itself from start to exit (as --cpu-prof would): a separate profiled burst would not fit the time budget.
  const profileDir = await mkdtemp(join(tmpdir(), 'tether-bench-profile-'));
  const tether = await startTether({ cpuProfileDir: profileDir });
  let tetherFigures: ServerFigures;
  try {
    tetherFigures = await measureServer(tether, true);
    reportWarnings(tether);
  } finally {
    await tether.stop();
  }
  const frame = tetherFigures.frame;
  if (!frame) throw new Error('no chat event frame captured');
  const raw = await startRaw(tether);
  let rawFigures: ServerFigures;
  try {
    await raw.setFrame(frame);
    rawFigures = await measureServer(raw, false);
  } finally {
    await raw.stop();
  }
  reportFigures(tetherFigures, rawFigures);

  // Step 5.
  const manyTether = await startTether();
  let many: { connections: number; why: string };
  let tetherMany: ManyFigures;
  try {
    many = await manyConnectionsCount(manyTether.pid);
    tetherMany = await manyConnections(manyTether, many.connections);
    reportWarnings(manyTether);
  } finally {
    await manyTether.stop();
  }
  const manyRaw = await startRaw(tether);
  let rawMany: ManyFigures;
  try {
    rawMany = await manyConnections(manyRaw, many.connections);
  } finally {
    await manyRaw.stop();
  }
  reportMany(tetherMany, rawMany, many.connections, many.why);

  // Step 6.
  const profile = await summariseBurst(profileDir, tetherFigures.burst);
  say(
    `6. fan-out CPU profile: tether main thread during step 2's burst (${seconds((profile.window.to - profile.window.from) / 1000)}): ${profile.profilePath}`,
  );
  for (const line of profile.table) say(`6. ${line}`);
  say(
    `6. re-summarise: npx tsx bench/transport/profile-summary.ts ${profile.profilePath} --from ${profile.window.from} --to ${profile.window.to}`,
  );
  say(`done in ${count((performance.now() - startedAt) / 1000)} s`);
}

await runBench(main, async () => {
  await stopAllChildren();
  await killAllServers();
});
