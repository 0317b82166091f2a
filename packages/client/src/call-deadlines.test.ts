import { afterEach, describe, expect, it, vi } from 'vitest';
import { CallDeadlines, type Expiring } from './call-deadlines';

const TIMEOUT_MS = 30;

/** A call that records when it expired, and can be awaited until it does. */
function call(log: string[], name: string) {
  let expired!: () => void;
  const done = new Promise<number>((resolve) => {
    expired = () => resolve(performance.now());
  });
  const expiring: Expiring = {
    expire() {
      log.push(name);
      expired();
    },
  };
  return { expiring, done };
}

describe('CallDeadlines', () => {
  const all: CallDeadlines<Expiring>[] = [];
  const deadlines = () => {
    const made = new CallDeadlines<Expiring>(TIMEOUT_MS);
    all.push(made);
    return made;
  };
  afterEach(() => {
    vi.useRealTimers();
    for (const made of all.splice(0)) made.dispose();
  });

  it('expires calls in the order they were made, each no earlier than its timeout', async () => {
    const queue = deadlines();
    const log: string[] = [];
    const first = call(log, 'first');
    const firstAt = performance.now();
    queue.add(first.expiring);
    // Made while the first waits: the queue's one timer must be armed again for it.
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS / 2));
    const second = call(log, 'second');
    const secondAt = performance.now();
    queue.add(second.expiring);

    expect((await first.done) - firstAt).toBeGreaterThanOrEqual(TIMEOUT_MS - 1);
    expect(log).toEqual(['first']);
    expect((await second.done) - secondAt).toBeGreaterThanOrEqual(TIMEOUT_MS - 1);
    expect(log).toEqual(['first', 'second']);
  });

  it('never expires a call that left in time', async () => {
    const queue = deadlines();
    const log: string[] = [];
    const answered = call(log, 'answered');
    queue.add(answered.expiring);
    queue.delete(answered.expiring);
    const late = call(log, 'late');
    queue.add(late.expiring);
    await late.done;
    expect(log).toEqual(['late']);
  });

  it('expires nothing once disposed, and takes nothing more', async () => {
    const queue = deadlines();
    const log: string[] = [];
    queue.add(call(log, 'before').expiring);
    queue.dispose();
    queue.add(call(log, 'after').expiring);
    // A witness on a queue of its own, made later with the same timeout: a surviving timer would have fired first.
    const witness = call([], 'witness');
    deadlines().add(witness.expiring);
    await witness.done;
    expect(log).toEqual([]);
  });

  it('expires a call once its timer has waited its timeout, even if the clock says otherwise', () => {
    // Timers faked, `performance` not (as some test setups do): the timer's word is enough.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const queue = deadlines();
    const log: string[] = [];
    queue.add(call(log, 'faked').expiring);
    vi.advanceTimersByTime(TIMEOUT_MS);
    expect(log).toEqual(['faked']);
  });
});
