import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../limits';
import { SessionRegistry, type SessionRegistryOptions } from './registry';
import { Session, type SessionPort } from './session';

/**
 * Replay pacing's scheduling, on its own: the ports here stand in for
 * connections (one that never drains is a reader that stopped reading, which
 * the transport tests produce for real); the registry needs only its limits.
 */
const registry = new SessionRegistry({ limits: DEFAULT_LIMITS } as SessionRegistryOptions<string>);

function sessionOf(principalKey: string, drained: Promise<void> = Promise.resolve()) {
  const port: SessionPort = { end() {}, bufferedBytes: 0, bytesSent: 0, drained: () => drained, ping() {} };
  const session = new Session<string>(registry, 'websocket', '127.0.0.1', port);
  session.credential = {
    principal: principalKey,
    principalKey,
    expiresAt: Infinity,
    recheckAt: null,
    revocationKeys: [],
  };
  return session;
}

describe('replay pacing', () => {
  it("gives one principal's pages turns over all its connections, and an aborted waiter leaves the line", async () => {
    const [first, second, third] = [sessionOf('user:a'), sessionOf('user:a'), sessionOf('user:a')];
    const order: string[] = [];
    const doneFirst = await first.paceReplay(new AbortController().signal);
    const leaving = new AbortController();
    const secondTurn = second.paceReplay(leaving.signal).then((done) => {
      order.push('second');
      return done;
    });
    const thirdTurn = third.paceReplay(new AbortController().signal).then((done) => {
      order.push('third');
      return done;
    });
    // Another principal is not in this line.
    (await sessionOf('user:b').paceReplay(new AbortController().signal))();
    leaving.abort();
    (await secondTurn)();
    expect(order).toEqual(['second']);
    doneFirst();
    (await thirdTurn)();
    expect(order).toEqual(['second', 'third']);
    // The line is empty again: the next page goes at once.
    (await first.paceReplay(new AbortController().signal))();
  });

  it('lets a connection that stops reading hold up its own replays only', async () => {
    const stalled = sessionOf('user:c', new Promise<void>(() => {}));
    const ending = new AbortController();
    const stalledTurn = stalled.paceReplay(ending.signal);
    // The same principal's other connection is not held behind it.
    (await sessionOf('user:c').paceReplay(new AbortController().signal))();
    // And the stalled one's wait ends with its subscription.
    ending.abort();
    (await stalledTurn)();
  });
});
