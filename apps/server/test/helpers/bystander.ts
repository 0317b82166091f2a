import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { percentile } from '../../bench/transport/process-stats';
import type { AttackPlan } from '../fixtures/attacker-process';

/**
 * What an attack costs everyone else: a bystander's calls timed one after
 * another, quiet and then under attack in the same test, compared as a
 * ratio (never as an absolute time: machines differ).
 */

/** The p99 (nearest rank: of 100 samples the second slowest, not the slowest) of `samples` calls made one after another, in ms. */
export async function p99Of(samples: number, call: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const startedAt = performance.now();
    await call();
    times.push(performance.now() - startedAt);
  }
  return percentile(times, 99);
}

export interface AttackOutcome {
  calls: number;
  succeeded: number;
  /** Calls answered 429 (refused for now). */
  refused: number;
  /** Whether the attack was still going (not cut short by its bounds) when it was stopped. */
  lasted: boolean;
  /** Bytes its presence watchers were sent, if it had any; for a replay loop, what its replays were sent. */
  received: number;
}

export interface Attack {
  /** Stops the attacker once its calls under way are answered, and says what it did. */
  stop(): Promise<AttackOutcome>;
}

const ATTACKER = fileURLToPath(new URL('../fixtures/attacker-process.ts', import.meta.url));
const running = new Set<ChildProcess>();

/** Starts an attacker in a process of its own (its work must not slow the bystander's clock) and waits until it is under way. */
export async function startAttack(plan: AttackPlan): Promise<Attack> {
  const child = spawn(process.execPath, ['--import', 'tsx', ATTACKER], {
    env: { ...process.env, FIXTURE_ATTACK: JSON.stringify(plan) },
    // Its stdin is how it knows this process is still there: it ends itself when the pipe closes.
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.value !== 'started') throw new Error(`the attacker did not start: ${String(first.value)}`);
  return {
    async stop() {
      child.kill('SIGTERM');
      const outcome = await lines.next();
      if (outcome.done) throw new Error('the attacker ended without saying what it did');
      await once(child, 'exit').catch(() => {});
      return JSON.parse(outcome.value) as AttackOutcome;
    },
  };
}

/** Kills every attacker still running (a failed test's). */
export function killAttackers(): void {
  for (const child of running) child.kill('SIGKILL');
}
