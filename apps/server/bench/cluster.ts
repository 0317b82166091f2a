/**
 * `pnpm bench`, issue 11: fan-out to 5,000 subscribers on one server process
 * against the same spread over three processes sharing PostgreSQL and Redis,
 * in one run on one machine. Each deployment: subscribers round-robin over
 * its processes' own WebSocket URLs (held by load-generator processes), one
 * driver on its first process sends a burst of events at once, then events
 * one at a time; reported are delivered events/s (burst), p99 send -> receipt
 * (one at a time), server CPU per delivery, and every event counted (none
 * lost, none duplicated).
 *
 * The one-node baseline runs as a single process is deployed (PostgreSQL,
 * its in-process bus), so 3 nodes / 1 node is what the Redis hop and the
 * split cost together; a second one-node deployment sends its events through
 * Redis too, to tell the hop from the split. On a machine with fewer cores
 * than processes, expect no speed-up. All deployments stay up with their
 * subscribers and take turns, round after round, so a change in what else
 * the machine runs falls on each alike; figures are medians over the rounds.
 * Run from apps/server:
 *
 *   DATABASE_URL=postgres://... REDIS_URL=redis://... npx tsx bench/cluster.ts
 */
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { killAllServers } from '@tether/testing';
import { createScratchDatabase } from '../test/helpers/scratch-database';
import { type ClusterFigures, deliveredExactly, reportCase, reportComparison, reportRound } from './cluster-report';
import { buildServer } from './harness';
import { count, runBench, say } from './report';
import { stopAllChildren } from './transport/child';
import { BURST_EVENTS, ISOLATED_EVENTS, SUBSCRIBERS } from './transport/fanout';
import type { Fleet } from './transport/load-fleet';
import { burstThenIsolated, openSubscribers, warmUp } from './transport/steps';
import { BODY_BYTES, MAX_TIMED_EVENTS } from './transport/target';
import { startTether, type TetherTarget } from './transport/tether-target';
import { reportWarnings } from './transport/transport-report';

const CLUSTER_NODES = 3;
const ROUNDS = 3;
/**
 * How often each process checks its rooms' heads in the store (the server's
 * default, pinned): a duplicate or a late event from that path shows up
 * within it, so the final count waits a little longer.
 */
const RECHECK_MS = 3_000;
const SETTLE_MS = RECHECK_MS + 500;
const FINAL_COUNT_DEADLINE_MS = 5_000;

interface Deployment {
  label: string;
  nodes: number;
  bus: string;
  env: Record<string, string>;
}

/** A deployment up, its subscribers subscribed, and what its rounds have measured and sent so far. */
interface Running extends Omit<ClusterFigures, 'final'> {
  target: TetherTarget;
  fleet: Fleet;
}

async function bringUp(deployment: Deployment): Promise<Running> {
  const target = await startTether({ nodes: deployment.nodes, env: deployment.env });
  try {
    await warmUp(target);
    const fleet = await openSubscribers(target, false);
    return { ...deployment, target, fleet, connectMs: fleet.connectMs, rounds: [], sent: 0 };
  } catch (error) {
    await target.stop();
    throw error;
  }
}

/** One burst and the events one at a time; none after a round that lost events (every later count would be off). */
async function runRound(running: Running): Promise<void> {
  if (running.rounds.some((round) => round.latency.incomplete)) return;
  const round = await burstThenIsolated(running.target, running.fleet, running.sent);
  running.rounds.push(round);
  running.sent += BURST_EVENTS + round.latency.events;
  reportRound(running, running.rounds.length);
}

async function measure(deployments: readonly Deployment[]): Promise<ClusterFigures[]> {
  const running: Running[] = [];
  try {
    for (const deployment of deployments) running.push(await bringUp(deployment));
    for (let round = 0; round < ROUNDS; round++) {
      for (const each of running) await runRound(each);
    }
    await sleep(SETTLE_MS);
    for (const each of running) reportWarnings(each.target);
    return await Promise.all(
      running.map(async ({ target, fleet, ...figures }) => ({
        ...figures,
        final: await fleet.awaitEvents(figures.sent, FINAL_COUNT_DEADLINE_MS),
      })),
    );
  } finally {
    await Promise.all(running.map((each) => each.fleet.close()));
    // Together: each stop ends with spawnServer's process-wide cleanup, which would cut the others' drain short.
    await Promise.all(running.map((each) => each.target.stop()));
  }
}

async function main(): Promise<void> {
  // Every event of every round is timed: a subscriber keeps the receive times of only so many.
  if (ROUNDS * (BURST_EVENTS + ISOLATED_EVENTS) > MAX_TIMED_EVENTS)
    throw new Error('more events than a fleet can time');
  const adminUrl = process.env.DATABASE_URL;
  const redisUrl = process.env.REDIS_URL;
  if (!adminUrl || !redisUrl) {
    console.log('[skipped] cluster fan-out bench: DATABASE_URL and REDIS_URL are both needed');
    return;
  }
  const startedAt = performance.now();
  say(
    `cluster fan-out: ${count(SUBSCRIBERS)} subscribers round-robin over the nodes, ${BURST_EVENTS} events of a` +
      ` ${BODY_BYTES}-byte body at once then ${ISOLATED_EVENTS} one at a time, sent on node 1; ${ROUNDS} rounds,` +
      ` deployments taking turns; machine: ${availableParallelism()} cores, Node ${process.version}, everything on 127.0.0.1`,
  );
  buildServer();
  // One fresh database for all: each deployment signs up its own user and room in it.
  const database = await createScratchDatabase(adminUrl, 'tether_bench_cluster');
  try {
    const postgres = { DATABASE_URL: database.url, TETHER_FANOUT_RECHECK_MS: String(RECHECK_MS) };
    const viaRedis = { ...postgres, REDIS_URL: redisUrl };
    const [single, singleViaRedis, cluster] = await measure([
      { label: '1 node', nodes: 1, bus: 'PostgreSQL, in-process bus', env: postgres },
      // The hop alone: one process whose events go out to Redis and back, as every process's do in a cluster.
      { label: '1 node via Redis', nodes: 1, bus: 'PostgreSQL + Redis bus', env: viaRedis },
      { label: `${CLUSTER_NODES} nodes`, nodes: CLUSTER_NODES, bus: 'PostgreSQL + Redis bus', env: viaRedis },
    ]);
    if (!single || !singleViaRedis || !cluster) throw new Error('a deployment went unmeasured');
    for (const figures of [single, singleViaRedis, cluster]) reportCase(figures);
    reportComparison(single, cluster);
    reportComparison(single, singleViaRedis);
    const failed = [single, singleViaRedis, cluster].filter((figures) => !deliveredExactly(figures));
    if (failed.length > 0) {
      throw new Error(`events lost, duplicated or dropped: ${failed.map((f) => f.label).join(', ')}`);
    }
  } finally {
    await killAllServers();
    await database.drop();
  }
  say(`cluster done in ${count((performance.now() - startedAt) / 1000)} s`);
}

await runBench(main, async () => {
  await stopAllChildren();
  await killAllServers();
});
