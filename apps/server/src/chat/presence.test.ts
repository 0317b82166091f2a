import { randomUUID } from 'node:crypto';
import { applyPresenceUpdate, type Presence, type PresenceUpdate, pushInto, type UserRef } from '@tether/protocol';
import { createMemoryBus } from '@tether/server-core';
import { describe, expect, it } from 'vitest';
import { createPresence } from './presence';

const user = (username: string): UserRef => ({ id: randomUUID(), username });

/**
 * A watcher as the transport drives it: records what it is sent, folds it, and
 * says whether it was delivered (`lagging`: held back, as a transport does for a reader that lags).
 */
function watcher() {
  const updates: PresenceUpdate[] = [];
  let known: Presence | null = null;
  const waiters: Array<{ match: (p: Presence) => boolean; resolve: () => void }> = [];
  const state = { lagging: false };
  const sink = {
    next(update: PresenceUpdate) {
      updates.push(update);
      known = applyPresenceUpdate(known, update);
      for (const waiter of waiters.filter((w) => known && w.match(known))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      return !state.lagging;
    },
    error: () => {},
    complete: () => {},
  };
  return {
    sink,
    state,
    updates,
    known: () => known,
    until: (match: (p: Presence) => boolean) =>
      known && match(known) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ match, resolve })),
  };
}

const names = (users: UserRef[]) => users.map((u) => u.username).join(',');

describe('presence as changes', () => {
  it('sends a snapshot first, then only what changed', async () => {
    const presence = createPresence(createMemoryBus(), { tickMs: 5 });
    const roomId = randomUUID();
    const [alice, bob] = [user('alice'), user('bob')];
    const view = watcher();
    presence.stream(roomId, alice)[pushInto](view.sink);
    await view.until((p) => names(p.online) === 'alice');
    const bobRun = presence.stream(roomId, bob)[pushInto](watcher().sink);
    await view.until((p) => names(p.online) === 'alice,bob');
    presence.typing(roomId, bob);
    await view.until((p) => names(p.typing) === 'bob');
    bobRun.stop();
    await view.until((p) => names(p.online) === 'alice' && p.typing.length === 0);

    expect(view.updates[0]?.kind).toBe('snapshot');
    expect(view.updates.slice(1).every((u) => u.kind === 'changes')).toBe(true);
    expect(view.updates.at(-1)).toMatchObject({ kind: 'changes', left: [bob.id], typingStopped: [bob.id] });
  });

  it('coalesces a storm of changes into one update per tick', async () => {
    const presence = createPresence(createMemoryBus(), { tickMs: 100 });
    const roomId = randomUUID();
    const view = watcher();
    presence.stream(roomId, user('watcher'))[pushInto](view.sink);
    await view.until((p) => p.online.length === 1);
    const before = view.updates.length;
    const stormer = user('stormer');
    // A change every 2 ms for 300 ms (each run of the loop: a join, then a leave a turn later).
    const startedAt = performance.now();
    while (performance.now() - startedAt < 300) {
      const run = presence.stream(roomId, stormer)[pushInto](watcher().sink);
      await new Promise((resolve) => setTimeout(resolve, 2));
      run.stop();
    }
    const stays = user('stays');
    presence.stream(roomId, stays)[pushInto](watcher().sink);
    await view.until((p) => names(p.online) === 'stays,watcher');
    // Over 100 changes in about 3 ticks: the watcher heard at most one update per tick, and the last.
    const ticks = Math.ceil((performance.now() - startedAt) / 100);
    expect(view.updates.length - before).toBeLessThanOrEqual(ticks + 1);
  });

  it('sends a snapshot again to a watcher whose update was held back', async () => {
    const presence = createPresence(createMemoryBus(), { tickMs: 5 });
    const roomId = randomUUID();
    const view = watcher();
    presence.stream(roomId, user('watcher'))[pushInto](view.sink);
    await view.until((p) => p.online.length === 1);
    view.state.lagging = true;
    presence.stream(roomId, user('one'))[pushInto](watcher().sink);
    await view.until((p) => p.online.length === 2);
    view.state.lagging = false;
    presence.stream(roomId, user('two'))[pushInto](watcher().sink);
    await view.until((p) => p.online.length === 3);
    expect(view.updates.map((u) => u.kind)).toEqual(['snapshot', 'changes', 'snapshot']);
  });

  it('ignores a user who starts typing too often: typing is a hint', async () => {
    const presence = createPresence(createMemoryBus(), { tickMs: 1 });
    const roomId = randomUUID();
    const typist = user('typist');
    const view = watcher();
    presence.stream(roomId, user('watcher'))[pushInto](view.sink);
    await view.until((p) => p.online.length === 1);
    for (let i = 0; i < 5; i += 1) {
      presence.typing(roomId, typist);
      await view.until((p) => names(p.typing) === 'typist');
      presence.stopTyping(roomId, typist.id);
      await view.until((p) => p.typing.length === 0);
    }
    presence.typing(roomId, typist);
    // Said in order with what follows it: when the marker shows, a sixth start would have shown with it.
    presence.stream(roomId, user('marker'))[pushInto](watcher().sink);
    await view.until((p) => names(p.online).includes('marker'));
    expect(view.known()?.typing).toEqual([]);
  });
});
