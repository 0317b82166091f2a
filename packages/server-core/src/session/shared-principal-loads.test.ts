import { describe, expect, it, vi } from 'vitest';
import type { Roster } from '../roster/roster';
import { SharedPrincipalLoads } from './shared-principal-loads';

/**
 * A roster in memory that records what is put and answers `others` as told:
 * a Redis that hangs or fails is what these tests are about, and a real one
 * cannot be made to hang on cue. The real rosters pass roster.contract.test.ts,
 * and the caps across real processes are tested in apps/server's redis-restart.test.ts.
 */
function scriptedRoster(others: (scope: string) => Promise<unknown[]>) {
  const puts: Array<[string, unknown]> = [];
  const roster: Roster = {
    put: async (scope, value) => void puts.push([scope, value]),
    others,
    close: async () => {},
  };
  return { roster, puts };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('SharedPrincipalLoads', () => {
  it('puts the latest counts of each principal once per task, and takes them back when none are left', async () => {
    const { roster, puts } = scriptedRoster(async () => []);
    const loads = new SharedPrincipalLoads({ roster, onError: () => {} });
    for (let subscriptions = 1; subscriptions <= 50; subscriptions += 1) {
      loads.report('user:1', { connections: 1, subscriptions });
    }
    loads.report('user:2', { connections: 2, subscriptions: 0 });
    await settled();
    expect(puts).toEqual([
      ['principal-load:user:1', { connections: 1, subscriptions: 50 }],
      ['principal-load:user:2', { connections: 2, subscriptions: 0 }],
    ]);
    loads.report('user:1', undefined);
    await settled();
    expect(puts.at(-1)).toEqual(['principal-load:user:1', null]);
  });

  it('adds up what the other processes hold, passing over anything that is not a count', async () => {
    const { roster } = scriptedRoster(async () => [
      { connections: 2, subscriptions: 5 },
      { connections: 1, subscriptions: 3 },
      'garbage',
      null,
    ]);
    const loads = new SharedPrincipalLoads({ roster, onError: () => {} });
    const elsewhere = await loads.read('user:1');
    expect(elsewhere).toEqual({ connections: 3, subscriptions: 8 });
    // Kept only for a principal admitted here: a refused sign-in leaves nothing behind.
    expect(loads.cached('user:1')).toEqual({ connections: 0, subscriptions: 0 });
    loads.admitted('user:1', elsewhere);
    expect(loads.cached('user:1')).toEqual({ connections: 3, subscriptions: 8 });
  });

  it('counts nothing elsewhere when the roster fails or does not answer in time, and says so', async () => {
    const errors: unknown[] = [];
    const hanging = new SharedPrincipalLoads({
      roster: scriptedRoster(() => new Promise(() => {})).roster,
      timeoutMs: 20,
      onError: (error) => errors.push(error),
    });
    expect(await hanging.read('user:1')).toEqual({ connections: 0, subscriptions: 0 });
    const failing = new SharedPrincipalLoads({
      roster: scriptedRoster(() => Promise.reject(new Error('connection refused'))).roster,
      onError: (error) => errors.push(error),
    });
    expect(await failing.read('user:1')).toEqual({ connections: 0, subscriptions: 0 });
    expect(errors.map(String)).toEqual([
      "Error: the other processes' counts were not read within 20 ms",
      'Error: connection refused',
    ]);
  });

  it('reads stale counts again in the background, once, and trusts none past their maximum age', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      let reads = 0;
      const loads = new SharedPrincipalLoads({
        roster: scriptedRoster(async () => {
          reads += 1;
          return [{ connections: 1, subscriptions: 7 }];
        }).roster,
        refreshMs: 1_000,
        maxAgeMs: 10_000,
        onError: () => {},
      });
      loads.admitted('user:1', { connections: 1, subscriptions: 1 });
      expect(loads.cached('user:1').subscriptions).toBe(1);
      vi.advanceTimersByTime(1_000);
      // Stale: still counted, and read again for the next subscription, by one read however many ask.
      expect(loads.cached('user:1').subscriptions).toBe(1);
      expect(loads.cached('user:1').subscriptions).toBe(1);
      await settled();
      expect(reads).toBe(1);
      expect(loads.cached('user:1').subscriptions).toBe(7);
      // Too old to trust (the principal may long have let go of them): none is counted while they are read again.
      vi.advanceTimersByTime(10_000);
      expect(loads.cached('user:1').subscriptions).toBe(0);
      await settled();
      expect(reads).toBe(2);
      expect(loads.cached('user:1').subscriptions).toBe(7);
      // A principal gone from this process keeps nothing to refresh.
      loads.report('user:1', undefined);
      expect(loads.cached('user:1')).toEqual({ connections: 0, subscriptions: 0 });
    } finally {
      vi.useRealTimers();
    }
  });
});
