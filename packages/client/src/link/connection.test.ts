import { CloseCode } from '@tether/protocol/wire';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_KEEP_ALIVE, DEFAULT_RECONNECT, type WebSocketConstructor } from '../options';
import type { TransportStatus } from '../status';
import { Connection } from './connection';

/** A socket the test drives: it opens, speaks and closes when told. */
class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  closedWith: number | null = null;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close(code = 1000) {
    this.closedWith = code;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(data: string) {
    this.onmessage?.({ data });
  }
  drop(code: number, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  get hasHandlers() {
    return this.onopen !== null || this.onmessage !== null || this.onclose !== null;
  }
}
const latest = () => FakeSocket.all.at(-1) as FakeSocket;

function connect(
  overrides: { params?: (forceRefresh: boolean) => Promise<unknown>; url?: string | readonly string[] } = {},
) {
  const states: TransportStatus[] = [];
  const heard: unknown[] = [];
  let opened = 0;
  let lost = 0;
  let stable = 0;
  const params = vi.fn(overrides.params ?? (async () => ({ protocolVersion: '4', token: 't' })));
  const connection = new Connection(
    {
      url: overrides.url ?? 'ws://server/trpc',
      WebSocket: FakeSocket as unknown as WebSocketConstructor,
      connectionParams: params,
      keepAlive: DEFAULT_KEEP_ALIVE,
      reconnect: { ...DEFAULT_RECONNECT, baseMs: 1_000, maxMs: 8_000 },
      // The top of every backoff range, so delays are known.
      random: () => 0.999_999,
      now: () => Date.now(),
    },
    {
      opened: () => opened++,
      message: (message) => heard.push(message),
      lost: () => lost++,
      stable: () => stable++,
      changed: (state) => states.push(state),
    },
  );
  return { connection, states, heard, params, counts: () => ({ opened, lost, stable }) };
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.all = [];
});
afterEach(() => vi.useRealTimers());

describe('Connection', () => {
  it('counts attempts that end unheard (1006) in a row; a close from the server or a stable socket resets the count', async () => {
    const { connection, counts } = connect();
    connection.start();
    await vi.advanceTimersByTimeAsync(0);
    latest().drop(1006); // the upgrade refused
    expect(connection.unheardAttempts).toBe(1);
    await vi.advanceTimersByTimeAsync(8_000);
    latest().open();
    latest().drop(1006); // cut right after opening
    expect(connection.unheardAttempts).toBe(2);
    await vi.advanceTimersByTimeAsync(8_000);
    latest().open();
    latest().drop(CloseCode.ServiceRestart); // the server spoke: WebSocket reaches it
    expect(connection.unheardAttempts).toBe(0);
    await vi.advanceTimersByTimeAsync(8_000);
    latest().drop(1006);
    expect(connection.unheardAttempts).toBe(1);
    await vi.advanceTimersByTimeAsync(8_000);
    latest().open();
    expect(counts().stable).toBe(0);
    await vi.advanceTimersByTimeAsync(DEFAULT_RECONNECT.stableAfterMs);
    expect(counts().stable).toBe(1);
    expect(connection.unheardAttempts).toBe(0);
    connection.dispose();
  });

  it('sends the handshake first, then is connected; answers PING; parses the rest for its owner', async () => {
    const { connection, heard, counts } = connect();
    connection.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(latest().url).toBe('ws://server/trpc?connectionParams=1');
    latest().open();
    expect(JSON.parse(latest().sent[0] as string)).toEqual({
      method: 'connectionParams',
      data: { protocolVersion: '4', token: 't' },
    });
    expect(connection.status.state).toBe('connected');
    expect(counts().opened).toBe(1);
    latest().receive('PING');
    expect(latest().sent.at(-1)).toBe('PONG');
    latest().receive('{"id":1,"result":{"type":"data","data":null}}');
    latest().receive('{"id":null,"method":"reconnect"}');
    expect(heard).toEqual([{ id: 1, result: { type: 'data', data: null } }]);
  });

  it('backs off with full jitter after a drop, sets an absolute retryAt, and reconnectNow skips the wait', async () => {
    const { connection, states, counts } = connect();
    connection.start();
    await vi.advanceTimersByTimeAsync(0);
    latest().open();
    latest().drop(CloseCode.ServiceRestart, 'restart');
    expect(counts().lost).toBe(1);
    const waiting = connection.status;
    expect(waiting).toMatchObject({ state: 'reconnecting', attempt: 1, lastCloseCode: CloseCode.ServiceRestart });
    expect(waiting.state === 'reconnecting' && waiting.retryAt).toBe(Date.now() + 999);
    // A connection that never opens grows the wait: attempt 2 waits up to 2 s.
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeSocket.all).toHaveLength(2);
    latest().drop(1006);
    expect(connection.status).toMatchObject({ state: 'reconnecting', attempt: 2 });
    expect(connection.status.state === 'reconnecting' && connection.status.retryAt).toBe(Date.now() + 1_999);
    connection.reconnectNow();
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.all).toHaveLength(3);
    // Each wait, then the attempt it ends in (retryAt null while one is under way).
    expect(
      states.map((s) =>
        s.state === 'reconnecting' ? `reconnecting ${s.retryAt === null ? 'now' : 'later'}` : s.state,
      ),
    ).toEqual(['connected', 'reconnecting later', 'reconnecting now', 'reconnecting later', 'reconnecting now']);
  });

  it('takes several endpoints in turn, one socket each, so a process that is down costs one attempt', async () => {
    const { connection } = connect({ url: ['ws://a/trpc', 'ws://b/trpc?x=1'] });
    connection.start();
    await vi.advanceTimersByTimeAsync(0);
    // a is down: its socket ends unheard, and the next goes to b, which answers.
    latest().drop(1006);
    await vi.advanceTimersByTimeAsync(1_000);
    latest().open();
    expect(connection.status.state).toBe('connected');
    latest().drop(CloseCode.ServiceRestart);
    // Not yet stable, so the backoff grew: attempt 2 waits up to 2 s.
    await vi.advanceTimersByTimeAsync(2_000);
    expect(FakeSocket.all.map((socket) => socket.url)).toEqual([
      'ws://a/trpc?connectionParams=1',
      'ws://b/trpc?x=1&connectionParams=1',
      'ws://a/trpc?connectionParams=1',
    ]);
  });

  it('resets the backoff only after a connection stays open', async () => {
    const { connection } = connect();
    connection.start();
    await vi.advanceTimersByTimeAsync(0);
    latest().drop(1006);
    await vi.advanceTimersByTimeAsync(1_000);
    latest().drop(1006);
    expect(connection.status).toMatchObject({ attempt: 2 });
    await vi.advanceTimersByTimeAsync(2_000);
    latest().open();
    await vi.advanceTimersByTimeAsync(DEFAULT_RECONNECT.stableAfterMs);
    latest().drop(1006);
    expect(connection.status).toMatchObject({ state: 'reconnecting', attempt: 1 });
  });

  it('waits longer after 1013 and 4429', async () => {
    const { connection } = connect();
    connection.start();
    await vi.advanceTimersByTimeAsync(0);
    latest().drop(CloseCode.TryAgainLater);
    // attempt 0 + 3 slow-down doublings: up to 8 s (the ceiling here).
    expect(connection.status.state === 'reconnecting' && connection.status.retryAt).toBe(Date.now() + 7_999);
  });

  it('asks for a fresh token after 4401, retries when getToken fails, and ends when it has none', async () => {
    let calls = 0;
    const { connection, params } = connect({
      params: async (forceRefresh) => {
        calls += 1;
        if (forceRefresh && calls === 3) throw new Error('refresh endpoint unreachable');
        if (forceRefresh && calls > 3) return null;
        return { token: `t${calls}` };
      },
    });
    connection.start();
    await vi.advanceTimersByTimeAsync(0);
    latest().open();
    latest().drop(CloseCode.Unauthorized, 'expired');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(params).toHaveBeenLastCalledWith(true);
    latest().open();
    latest().drop(CloseCode.Unauthorized, 'revoked');
    // Not stable yet: the second retry may wait up to 2 s. getToken throws: "not now", so it is retried.
    await vi.advanceTimersByTimeAsync(2_000);
    expect(connection.status).toMatchObject({ state: 'reconnecting', lastCloseCode: 4401 });
    expect(connection.status.lastCloseReason).toContain('refresh endpoint unreachable');
    // The retry still asks for a fresh token; getToken has none: the connection ends.
    await vi.advanceTimersByTimeAsync(4_000);
    expect(params).toHaveBeenLastCalledWith(true);
    expect(connection.status).toMatchObject({ state: 'closed', reason: 'unauthorized', lastCloseCode: 4401 });
  });

  it('sends nothing new on a socket whose server announced a restart; the next socket takes it', async () => {
    const { connection } = connect();
    connection.start();
    await vi.advanceTimersByTimeAsync(0);
    latest().open();
    expect(connection.send('a')).toBe(true);
    latest().receive(JSON.stringify({ id: null, method: 'reconnect' }));
    expect(connection.isOpen).toBe(false);
    expect(connection.send('b')).toBe(false);
    latest().drop(CloseCode.ServiceRestart, 'restarting');
    await vi.advanceTimersByTimeAsync(1_000);
    latest().open();
    expect(connection.send('c')).toBe(true);
    connection.dispose();
  });

  it('gives up on a getToken that never answers, and tries again', async () => {
    let calls = 0;
    const { connection, states } = connect({
      params: (_forceRefresh) => {
        calls += 1;
        return calls === 1 ? new Promise(() => {}) : Promise.resolve({ token: 't' });
      },
    });
    connection.start();
    await vi.advanceTimersByTimeAsync(DEFAULT_RECONNECT.connectTimeoutMs);
    expect(states.at(-1)).toMatchObject({ state: 'reconnecting', lastCloseCode: null });
    await vi.advanceTimersByTimeAsync(1_000);
    latest().open();
    expect(connection.status.state).toBe('connected');
    connection.dispose();
  });

  it('ends for good on 4426 and on a normal close', async () => {
    const { connection } = connect();
    connection.start();
    await vi.advanceTimersByTimeAsync(0);
    latest().drop(CloseCode.UpgradeRequired, 'upgrade');
    expect(connection.status).toMatchObject({ state: 'closed', reason: 'upgrade-required', lastCloseCode: 4426 });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('pings a quiet connection and gives it up when no answer comes', async () => {
    const { connection, counts } = connect();
    connection.start();
    await vi.advanceTimersByTimeAsync(0);
    const socket = latest();
    socket.open();
    await vi.advanceTimersByTimeAsync(DEFAULT_KEEP_ALIVE.intervalMs);
    expect(socket.sent.at(-1)).toBe('PING');
    await vi.advanceTimersByTimeAsync(DEFAULT_KEEP_ALIVE.pongTimeoutMs);
    expect(socket.closedWith).toBe(CloseCode.Normal);
    expect(counts().lost).toBe(1);
    expect(connection.status).toMatchObject({ state: 'reconnecting', lastCloseCode: 1006 });
  });

  it('does not ping a socket that hears from the server, keeps one that answers, whatever the wall clock does', async () => {
    const { connection } = connect();
    connection.start();
    await vi.advanceTimersByTimeAsync(0);
    const socket = latest();
    socket.open();
    for (let i = 0; i < 4; i += 1) {
      await vi.advanceTimersByTimeAsync(DEFAULT_KEEP_ALIVE.intervalMs / 2);
      socket.receive('{"id":1,"result":{"type":"data","data":{"json":null}}}');
    }
    expect(socket.sent).not.toContain('PING');
    await vi.advanceTimersByTimeAsync(2 * DEFAULT_KEEP_ALIVE.intervalMs);
    expect(socket.sent.at(-1)).toBe('PING');
    // The clock steps back an hour (NTP, a resumed VM): the answer still counts.
    vi.setSystemTime(Date.now() - 3_600_000);
    socket.receive('PONG');
    await vi.advanceTimersByTimeAsync(DEFAULT_KEEP_ALIVE.pongTimeoutMs);
    expect(socket.closedWith).toBeNull();
    expect(connection.status.state).toBe('connected');
    connection.dispose();
  });

  it('waits at most the cap between retries while another transport carries the traffic', async () => {
    const { connection, states } = connect();
    connection.start();
    await vi.advanceTimersByTimeAsync(0);
    connection.capRetries(2_000);
    for (let i = 0; i < 5; i += 1) {
      latest().drop(1006);
      const waiting = states.at(-1);
      expect(
        waiting?.state === 'reconnecting' && waiting.retryAt !== null && waiting.retryAt - Date.now(),
      ).toBeLessThanOrEqual(2_000);
      await vi.advanceTimersByTimeAsync(2_000);
    }
    connection.capRetries(null);
    latest().drop(1006);
    const uncapped = states.at(-1);
    // Attempt 6 with base 1 s and max 8 s, at the top of its range: the cap is gone.
    expect(
      uncapped?.state === 'reconnecting' && uncapped.retryAt !== null && uncapped.retryAt - Date.now(),
    ).toBeGreaterThan(7_000);
    connection.dispose();
  });

  it('gives up on a socket that does not open in time', async () => {
    const { connection } = connect();
    connection.start();
    await vi.advanceTimersByTimeAsync(DEFAULT_RECONNECT.connectTimeoutMs);
    expect(FakeSocket.all[0]?.closedWith).toBe(CloseCode.Normal);
    expect(connection.status).toMatchObject({ state: 'reconnecting', attempt: 1 });
  });

  it('opens one socket however often it is started, and a wake-up never doubles an attempt under way', async () => {
    let release!: () => void;
    const { connection } = connect({
      params: () =>
        new Promise((resolve) => {
          release = () => resolve({});
        }),
    });
    connection.start();
    connection.start();
    connection.reconnectNow();
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('leaves no timer, socket or handler behind when disposed', async () => {
    const { connection } = connect();
    connection.start();
    await vi.advanceTimersByTimeAsync(0);
    latest().open();
    connection.dispose();
    expect(latest().closedWith).toBe(CloseCode.Normal);
    expect(latest().hasHandlers).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    expect(connection.status).toMatchObject({ state: 'closed', reason: 'disposed' });
    expect(connection.send('x')).toBe(false);
  });
});

describe('Connection over a real `ws` socket', () => {
  it('disposes while the socket is still opening without an unheard error', async () => {
    vi.useRealTimers();
    const { WebSocket: RealWebSocket, WebSocketServer } = await import('ws');
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    const errors: unknown[] = [];
    const onUncaught = (error: unknown) => errors.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const connection = new Connection(
        {
          url: `ws://127.0.0.1:${port}/trpc`,
          WebSocket: RealWebSocket as unknown as WebSocketConstructor,
          connectionParams: async () => ({}),
          keepAlive: DEFAULT_KEEP_ALIVE,
          reconnect: DEFAULT_RECONNECT,
        },
        { opened: () => {}, message: () => {}, lost: () => {}, stable: () => {}, changed: () => {} },
      );
      connection.start();
      // The socket exists once the params are in: dispose while it is still connecting.
      await new Promise((resolve) => setImmediate(resolve));
      connection.dispose();
      // ws reports an aborted handshake on the next tick: after an immediate, it has.
      await new Promise((resolve) => setImmediate(resolve));
      expect(errors).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
