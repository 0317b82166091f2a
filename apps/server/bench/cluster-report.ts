/** The cluster bench's report lines: each round, each deployment over its rounds, then deployments side by side. */
import { count, say } from './report';
import type { BurstFigures, LatencyFigures } from './transport/fanout';
import type { Delivery } from './transport/load-fleet';
import { percentile } from './transport/process-stats';
import { seconds } from './transport/steps';
import { cpuNote, lossLine, ms } from './transport/transport-report';

export interface Round {
  burst: BurstFigures;
  latency: LatencyFigures;
}

/** One deployment's run: its rounds, and every event counted at the end. */
export interface ClusterFigures {
  /** '1 node', '3 nodes', ...: how report lines name the deployment. */
  label: string;
  /** How the processes hear each other's events. */
  bus: string;
  connectMs: number;
  rounds: Round[];
  /** Events sent in all rounds. */
  sent: number;
  /** Every subscriber's count against `sent`, taken after the settle pause: lost, duplicated, dropped. */
  final: Delivery;
}

/**
 * Server CPU time (all its processes) per 1,000 deliveries in the burst:
 * what the deployment spends, whatever else the machine runs meanwhile,
 * where events/s and latency also depend on how much CPU it was given.
 */
const cpuPerThousand = (burst: BurstFigures) => (burst.serverCpuShare * 1_000_000) / burst.eventsPerSecond;

const median = (values: readonly number[]) => percentile(values, 50);

/** The figures the comparison quotes, each the median over the deployment's rounds. */
function medians(figures: ClusterFigures) {
  return {
    eventsPerSecond: median(figures.rounds.map((r) => r.burst.eventsPerSecond)),
    p99Ms: median(figures.rounds.map((r) => r.latency.p99Ms)),
    cpuPerThousand: median(figures.rounds.map((r) => cpuPerThousand(r.burst))),
  };
}

const times = (value: number, baseline: number) => `${(value / baseline).toFixed(2)}x`;

/** Nothing lost, nothing duplicated, no subscriber dropped: otherwise the figures flatter the server. */
export function deliveredExactly(figures: ClusterFigures): boolean {
  const { final } = figures;
  return final.complete && final.over === 0 && Object.keys(final.closeCodes).length === 0;
}

/** Round `n` of a deployment, as it finishes. */
export function reportRound(figures: Pick<ClusterFigures, 'label' | 'rounds'>, n: number): void {
  const round = figures.rounds[n - 1];
  if (!round) return;
  const { burst, latency } = round;
  const incomplete = latency.incomplete ? ` [INCOMPLETE after ${latency.events} events]` : '';
  say(
    `cluster ${figures.label} round ${n}: burst ${count(burst.eventsPerSecond)} events/s (${seconds(burst.elapsedMs)},` +
      ` sends acknowledged after ${ms(burst.acknowledgedMs)}), server CPU ${ms(cpuPerThousand(burst))} per 1,000 deliveries;` +
      ` one at a time p50 ${ms(latency.p50Ms)}, p99 ${ms(latency.p99Ms)}${incomplete}; ${cpuNote(burst)}`,
  );
}

/** A deployment over its rounds: how it ran, and whether every event arrived exactly once. */
export function reportCase(figures: ClusterFigures): void {
  const samples = figures.rounds.reduce((sum, r) => sum + r.latency.samples, 0);
  say(
    `cluster ${figures.label} (${figures.bus}): subscribed in ${seconds(figures.connectMs)}; ${figures.rounds.length} rounds,` +
      ` ${count(samples)} latency samples; ${count(figures.sent)} events, lost/duplicated: ${lossLine(figures.final, figures.sent)}`,
  );
}

/** `other` beside `baseline` (medians over rounds), with other / baseline for each figure. */
export function reportComparison(baseline: ClusterFigures, other: ClusterFigures): void {
  const b = medians(baseline);
  const o = medians(other);
  const figure = (label: string, m: ReturnType<typeof medians>) =>
    `${label} ${count(m.eventsPerSecond)} events/s, p99 ${ms(m.p99Ms)}, server CPU ${ms(m.cpuPerThousand)} per 1,000`;
  say(
    `cluster fan-out: ${figure(baseline.label, b)} | ${figure(other.label, o)} | ${other.label} / ${baseline.label}:` +
      ` ${times(o.eventsPerSecond, b.eventsPerSecond)} events/s, ${times(o.p99Ms, b.p99Ms)} p99,` +
      ` ${times(o.cpuPerThousand, b.cpuPerThousand)} server CPU per delivery`,
  );
}
