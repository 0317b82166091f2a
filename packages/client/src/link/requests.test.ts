import type { TRPCResponseMessage } from '@trpc/server/rpc';
import { describe, expect, it } from 'vitest';
import { type RequestCallbacks, Requests } from './requests';

/** A connection that records frames and can be opened and closed by the test. */
function fakeSink() {
  const frames: unknown[] = [];
  const sink = {
    isOpen: false,
    send(frame: string) {
      if (!sink.isOpen) return false;
      frames.push(JSON.parse(frame));
      return true;
    },
  };
  return { sink, frames };
}

function recorder() {
  const events: string[] = [];
  const callbacks: RequestCallbacks = {
    message: (message) => events.push(JSON.stringify('result' in message ? message.result : message.error)),
    lost: () => events.push('lost'),
    suspended: () => events.push('suspended'),
    closed: (error) => events.push(`closed: ${error.message}`),
    complete: () => events.push('complete'),
  };
  return { events, callbacks };
}

const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve));
const data = (id: number, value: unknown, eventId?: string): TRPCResponseMessage =>
  ({ id, result: { type: 'data', data: value, ...(eventId ? { id: eventId } : {}) } }) as TRPCResponseMessage;

describe('Requests', () => {
  it('queues while closed, then sends what is ready in one frame, in order', async () => {
    const { sink, frames } = fakeSink();
    const requests = new Requests(sink);
    requests.start('query', 'a', { json: 1 }, undefined, recorder().callbacks);
    requests.start('mutation', 'b', { json: 2 }, undefined, recorder().callbacks);
    await tick();
    expect(frames).toEqual([]);
    sink.isOpen = true;
    requests.opened();
    await tick();
    expect(frames).toEqual([
      [
        { id: 1, method: 'query', params: { path: 'a', input: { json: 1 } } },
        { id: 2, method: 'mutation', params: { path: 'b', input: { json: 2 } } },
      ],
    ]);
  });

  it('answers a query once and forgets it; tells the ones in flight when their socket goes', async () => {
    const { sink } = fakeSink();
    sink.isOpen = true;
    const requests = new Requests(sink);
    const answered = recorder();
    const inFlight = recorder();
    requests.start('query', 'a', null, undefined, answered.callbacks);
    requests.start('mutation', 'b', null, undefined, inFlight.callbacks);
    await tick();
    requests.message(data(1, 'yes'));
    requests.message(data(1, 'again'));
    requests.lost();
    expect(answered.events).toEqual(['{"type":"data","data":"yes"}', 'complete']);
    expect(inFlight.events).toEqual(['lost']);
    expect(requests.size).toBe(0);
  });

  it('resubscribes on a new socket from the last tracked id, telling the subscriber it was suspended and is live again', async () => {
    const { sink, frames } = fakeSink();
    sink.isOpen = true;
    const requests = new Requests(sink);
    const { events, callbacks } = recorder();
    requests.start('subscription', 'room', { json: 'r' }, undefined, callbacks);
    await tick();
    requests.message({ id: 1, result: { type: 'started' } });
    requests.message(data(1, 'e7', '7'));
    requests.message(data(1, 'ephemeral'));
    sink.isOpen = false;
    requests.lost();
    sink.isOpen = true;
    requests.opened();
    await tick();
    expect(frames.at(-1)).toEqual({
      id: 1,
      method: 'subscription',
      params: { path: 'room', input: { json: 'r' }, lastEventId: '7' },
    });
    requests.message({ id: 1, result: { type: 'started' } });
    requests.message({ id: 1, result: { type: 'stopped' } });
    expect(events).toEqual([
      '{"type":"started"}',
      '{"type":"data","data":"e7","id":"7"}',
      '{"type":"data","data":"ephemeral"}',
      'suspended',
      '{"type":"started"}',
      '{"type":"stopped"}',
      'complete',
    ]);
  });

  it('stops a live subscription on the server when cancelled; a queued one just goes', async () => {
    const { sink, frames } = fakeSink();
    const requests = new Requests(sink);
    const queued = requests.start('subscription', 'a', null, undefined, recorder().callbacks);
    requests.cancel(queued);
    sink.isOpen = true;
    const live = requests.start('subscription', 'b', null, undefined, recorder().callbacks);
    await tick();
    requests.cancel(live);
    expect(frames).toEqual([
      { id: 2, method: 'subscription', params: { path: 'b', input: null } },
      { id: 2, method: 'subscription.stop' },
    ]);
  });

  it('sends only what is new while subscriptions are live, and not what was cancelled before its frame left', async () => {
    const { sink, frames } = fakeSink();
    sink.isOpen = true;
    const requests = new Requests(sink);
    for (let i = 0; i < 3; i += 1) requests.start('subscription', 'room', i, undefined, recorder().callbacks);
    await tick();
    frames.length = 0;
    const withdrawn = requests.start('query', 'withdrawn', null, undefined, recorder().callbacks);
    requests.start('query', 'kept', null, undefined, recorder().callbacks);
    requests.cancel(withdrawn);
    await tick();
    expect(frames).toEqual([{ id: 5, method: 'query', params: { path: 'kept', input: null } }]);
  });

  it('tells every request, queued or live, when the link ends for good', async () => {
    const { sink } = fakeSink();
    sink.isOpen = true;
    const requests = new Requests(sink);
    const queued = recorder();
    const live = recorder();
    requests.start('subscription', 'room', null, undefined, live.callbacks);
    await tick();
    sink.isOpen = false;
    requests.start('query', 'later', null, undefined, queued.callbacks);
    requests.close(new Error('the client is closed (server-closed)'));
    expect(live.events).toEqual(['closed: the client is closed (server-closed)']);
    expect(queued.events).toEqual(['closed: the client is closed (server-closed)']);
    expect(requests.size).toBe(0);
  });

  it('splits a large resubscription into frames the server accepts', async () => {
    const { sink, frames } = fakeSink();
    const requests = new Requests(sink);
    for (let i = 0; i < 250; i += 1) requests.start('subscription', 'room', i, undefined, recorder().callbacks);
    sink.isOpen = true;
    requests.opened();
    await tick();
    expect(frames.map((frame) => (Array.isArray(frame) ? frame.length : 1))).toEqual([100, 100, 50]);
  });

  it('splits calls into frames by size too; a call larger than a frame goes alone', async () => {
    const { sink, frames } = fakeSink();
    const requests = new Requests(sink, { maxCalls: 100, maxBytes: 3_000 });
    for (const size of [300, 300, 5_000, 300]) {
      requests.start('mutation', 'send', 'x'.repeat(size), undefined, recorder().callbacks);
    }
    sink.isOpen = true;
    requests.opened();
    await tick();
    const inputs = (frame: unknown) =>
      (Array.isArray(frame) ? frame : [frame]).map((call) => String(call.params.input).length);
    expect(frames.map(inputs)).toEqual([[300, 300], [5_000], [300]]);
  });
});
