import { CloseCode } from '@tether/protocol/wire';
import { describe, expect, it } from 'vitest';
import { createPacer } from './pacer';

const retry = { baseMs: 100, maxMs: 10_000 };
/** A pacer whose random draws are the top of the jitter window, so delays equal their ceilings. */
const ceilingPacer = () => createPacer({ retry, random: () => 0.999_999, slowDownAttempts: 3 });
const never = new AbortController().signal;

async function delayOf(pacer: ReturnType<typeof createPacer>): Promise<number> {
  const turn = pacer.waitTurn(never);
  const { retryAt } = pacer.snapshot();
  pacer.retryNow();
  await turn;
  return retryAt === null ? 0 : retryAt - Date.now();
}

describe('pacer', () => {
  it('connects the first time at once, then backs off with doubling ceilings', async () => {
    const pacer = ceilingPacer();
    expect(await delayOf(pacer)).toBe(0);
    pacer.closed({ code: 1006, reason: '' }, false);
    const delays = [await delayOf(pacer), await delayOf(pacer), await delayOf(pacer)];
    expect(delays[0]).toBeGreaterThan(90);
    expect(delays[0]).toBeLessThanOrEqual(100);
    expect(delays[1]).toBeGreaterThan(190);
    expect(delays[2]).toBeGreaterThan(390);
  });

  it('starts over after a connection stayed open', async () => {
    const pacer = ceilingPacer();
    await delayOf(pacer);
    pacer.closed({ code: 1006, reason: '' }, false);
    await delayOf(pacer);
    await delayOf(pacer);
    pacer.opened();
    pacer.stable();
    pacer.closed({ code: CloseCode.ServiceRestart, reason: 'restart' }, true);
    expect(await delayOf(pacer)).toBeLessThanOrEqual(100);
  });

  it('waits longer after the server says overloaded or rate limited', async () => {
    for (const code of [CloseCode.TryAgainLater, CloseCode.RateLimited]) {
      const pacer = ceilingPacer();
      await delayOf(pacer);
      pacer.closed({ code, reason: '' }, true);
      // Three extra doublings: the first retry's ceiling is 100 * 2^3.
      expect(await delayOf(pacer)).toBeGreaterThan(790);
    }
  });

  it('lets retryNow cut a wait short and reports the wait in its snapshot', async () => {
    const pacer = ceilingPacer();
    await delayOf(pacer);
    pacer.closed({ code: 1006, reason: 'gone' }, false);
    const turn = pacer.waitTurn(never);
    expect(pacer.snapshot()).toMatchObject({ attempt: 1, lastClose: { code: 1006, reason: 'gone' } });
    expect(pacer.snapshot().retryAt).not.toBeNull();
    pacer.retryNow();
    await turn;
    expect(pacer.snapshot().retryAt).toBeNull();
  });

  it('rejects a waiting turn when its signal aborts', async () => {
    const pacer = ceilingPacer();
    await delayOf(pacer);
    pacer.closed({ code: 1006, reason: '' }, false);
    const controller = new AbortController();
    const turn = pacer.waitTurn(controller.signal);
    controller.abort(new Error('disposed'));
    await expect(turn).rejects.toThrow('disposed');
  });
});
