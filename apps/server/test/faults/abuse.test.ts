import { randomBytes } from 'node:crypto';
import { allRoomPages } from '@tether/protocol';
import { killAllServers, type ServerProcess, spawnServer } from '@tether/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, DEFAULT_WRITES } from '../../src/config';
import type { AttackPlan } from '../fixtures/attacker-process';
import { killAttackers, p99Of, startAttack } from '../helpers/bystander';
import { connectionParamsMessage, openRawSocket } from '../helpers/raw-socket';
import { CURRENT_PROTOCOL_VERSION, clientFactory, httpClient } from '../helpers/test-server';

/**
 * One client cannot hurt the others: each attack runs against a real server
 * process while a bystander (another signed-in user) makes ordinary calls,
 * timed quiet and then under attack in the same test. Attackers come from
 * many addresses (the server trusts the test as its proxy, so X-Forwarded-For
 * names them), as a botnet would: per-address limits alone would not stop them.
 */
const BYSTANDER_SAMPLES = 300;
const NEW_CONNECTION_SAMPLES = 100;
/** A bystander's p99 under attack may be at most this many times its quiet p99. */
const DEGRADATION_BAR = 3;
/**
 * An address of the bystander's own, new for each series of calls: its calls count against no attacker's
 * limits, nor theirs against its, and a series (hundreds of calls one after another) is faster than any
 * person, so each starts with the per-address allowance of a newcomer.
 */
const bystanderAddress = () => `10.200.${randomBytes(2).join('.')}`;

let server: ServerProcess;
/** The bystander of the test under way: a new account per test, so no test's calls count against another's limits. */
let bystanderToken: string;

beforeAll(async () => {
  server = await spawnServer({
    env: {
      TETHER_TRUSTED_PROXIES: '127.0.0.1',
      // The defaults, where the test servers raise them: the limits are under test here.
      TETHER_PASSWORD_HASHES_WAITING: '32',
      TETHER_WRITES_PER_MINUTE: String(DEFAULT_WRITES.writesPerMinute),
      TETHER_ROOMS_PER_HOUR: String(DEFAULT_WRITES.roomsPerHour),
      TETHER_REPLAY_BYTES_PER_SECOND: String(DEFAULT_LIMITS.replayBytesPerSecond),
      TETHER_REPLAY_BYTE_BURST: String(DEFAULT_LIMITS.replayByteBurst),
    },
  });
});
beforeEach(async () => {
  bystanderToken = (await signUp('bystander')).accessToken;
});

/** Each account from an address of its own: signing up is limited per address. */
const signUp = (prefix: string) =>
  httpClient(server.url, undefined, `10.100.${randomBytes(2).join('.')}`).auth.signUp.mutate({
    username: `${prefix}-${randomBytes(3).toString('hex')}`,
    password: 'a long and careful password',
  });

/** Accounts for an attacker (several: one principal may hold only so many connections). */
const attackerTokens = async (count: number) =>
  (await Promise.all(Array.from({ length: count }, () => signUp('attacker')))).map((session) => session.accessToken);

/**
 * Measures the bystander quiet, then under `plan`; says the figures. With `bar: 'held'` asserts the
 * 3x bar; with `'measured'` only reports the ratios: that attack does not meet the bar yet (see the
 * limits in docs/ARCHITECTURE.md), and the test asserts what its limit does to the attacker instead.
 * Returns what the attacker did and for how long.
 */
async function underAttack(label: string, plan: Omit<AttackPlan, 'url'>, bar: 'held' | 'measured') {
  const quiet = await bystanderP99s();
  const startedAt = performance.now();
  const attack = await startAttack({ ...plan, url: server.url });
  const attacked = await bystanderP99s();
  const outcome = await attack.stop();
  const seconds = (performance.now() - startedAt) / 1000;
  const ratios = {
    httpMe: attacked.httpMe / quiet.httpMe,
    newConnection: attacked.newConnection / quiet.newConnection,
  };
  console.info(
    `[${label}] ${outcome.calls} attacking calls in ${seconds.toFixed(1)} s, ${outcome.refused} refused; bystander p99 quiet → under attack: HTTP auth.me ${quiet.httpMe.toFixed(1)} → ${attacked.httpMe.toFixed(1)} ms (${ratios.httpMe.toFixed(2)}x), new connection ${quiet.newConnection.toFixed(1)} → ${attacked.newConnection.toFixed(1)} ms (${ratios.newConnection.toFixed(2)}x)${bar === 'measured' ? ', bar not asserted' : ''}`,
  );
  expect(outcome.lasted).toBe(true);
  if (bar === 'held') {
    expect(ratios.httpMe).toBeLessThanOrEqual(DEGRADATION_BAR);
    expect(ratios.newConnection).toBeLessThanOrEqual(DEGRADATION_BAR);
  }
  return { ...outcome, seconds };
}
afterAll(async () => {
  killAttackers();
  await killAllServers();
});

/** The bystander's ordinary calls: an HTTP query, and a new WebSocket connection's first call. */
async function bystanderP99s() {
  const http = httpClient(server.url, bystanderToken, bystanderAddress());
  // Warm: the first calls of a process are slower (code not yet compiled), and would pass for quiet.
  await p99Of(10, () => http.auth.me.query());
  const httpMe = await p99Of(BYSTANDER_SAMPLES, () => http.auth.me.query());
  const newConnection = await p99Of(NEW_CONNECTION_SAMPLES, async () => {
    const socket = await openRawSocket(`${server.wsUrl}?connectionParams=1`);
    try {
      socket.send(connectionParamsMessage({ protocolVersion: CURRENT_PROTOCOL_VERSION, token: bystanderToken }));
      socket.send({ id: 1, method: 'query', params: { path: 'auth.me', input: { json: null } } });
      const answer = await socket.waitForMessage((m) => m.id === 1);
      expect(answer.result).toBeDefined();
    } finally {
      socket.close();
    }
  });
  return { httpMe, newConnection };
}

describe('a bystander while one client attacks', () => {
  it('keeps its calls and new connections within 3x of quiet during a sign-in flood', async () => {
    // 200 sign-ins at once, as many as the issue measured, from addresses never seen.
    const { calls, refused } = await underAttack(
      'sign-in flood',
      { kind: 'sign-in-flood', inFlight: 200, maxCalls: 200_000, maxMs: 60_000 },
      'held',
    );
    // The queue held: most attempts were refused at once, with a time to come back, instead of waiting their turn.
    expect(refused).toBeGreaterThan(calls / 2);
  }, 120_000);

  it('coalesces a presence and typing storm sent to 300 watchers into one small update per tick', async () => {
    const [tokens, watcherTokens] = await Promise.all([attackerTokens(2), attackerTokens(4)]);
    const http = httpClient(server.url, tokens[0], bystanderAddress());
    const room = await http.rooms.create.mutate({
      name: `storm-${randomBytes(3).toString('hex')}`,
      visibility: 'public',
    });
    // The room opened and closed, typing started and stopped by sends, on 10 connections at once.
    const outcome = await underAttack(
      'presence storm',
      {
        kind: 'presence-storm',
        roomId: room.id,
        watchers: 300,
        watcherTokens,
        tokens,
        inFlight: 10,
        maxCalls: 200_000,
        maxMs: 60_000,
      },
      'measured',
    );
    // Each watcher was sent at most one update per tick (100 ms), each small: a change, not the room.
    const perWatcherPerSecond = outcome.received / 300 / outcome.seconds;
    console.info(`[presence storm] ${(perWatcherPerSecond / 1024).toFixed(2)} KiB per watcher per second`);
    expect(perWatcherPerSecond).toBeLessThanOrEqual(10 * 1024);
  }, 120_000);

  it("paces a replay loop over 2,990 messages of 4 KB by the looper's replay budget", async () => {
    // Ten writers, a minute's worth of writes each: 2,990 messages.
    const writers = await attackerTokens(10);
    const room = await httpClient(server.url, writers[0], bystanderAddress()).rooms.create.mutate({
      name: `replayed-${randomBytes(3).toString('hex')}`,
      visibility: 'public',
    });
    const body = 'x'.repeat(4000);
    const clients = clientFactory(() => server.wsUrl);
    try {
      await Promise.all(
        writers.map(async (token, w) => {
          const writer = clients.connect({ getToken: () => token }).trpc;
          if (w > 0) await writer.rooms.join.mutate({ roomId: room.id });
          // A minute's writes each, less the join.
          for (let i = 1; i < DEFAULT_WRITES.writesPerMinute; i += 1) {
            await writer.messages.send.mutate({ roomId: room.id, body, idempotencyKey: `r-${w}-${i}-${room.id}` });
          }
        }),
      );
    } finally {
      await clients.disposeAll();
    }
    const outcome = await underAttack(
      'replay loop',
      {
        kind: 'replay-loop',
        roomId: room.id,
        tokens: writers.slice(0, 2),
        inFlight: 8,
        maxCalls: 200_000,
        maxMs: 60_000,
      },
      'measured',
    );
    // The looper was slowed, not refused: its replays went on, each page of 100 read only once its
    // principal's budget (2 principals here) was out of debt, so each principal overdrew by a page at most.
    expect(outcome.succeeded).toBeGreaterThan(0);
    const budget = 2 * (DEFAULT_LIMITS.replayByteBurst + DEFAULT_LIMITS.replayBytesPerSecond * outcome.seconds);
    // A page of 100 frames of a 4,000-character body with its fields, generously.
    const page = 100 * 5_000;
    console.info(
      `[replay loop] ${(outcome.received / 2 ** 20).toFixed(1)} MiB replayed, budget ${(budget / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(outcome.received).toBeLessThanOrEqual(budget + 2 * page);
  }, 180_000);

  it('stops room spam at the per-user quota', async () => {
    const tokens = await attackerTokens(4);
    const outcome = await underAttack(
      'room spam',
      {
        kind: 'room-spam',
        tokens,
        inFlight: 8,
        maxCalls: 200_000,
        maxMs: 60_000,
      },
      'measured',
    );
    expect(outcome.refused).toBeGreaterThan(0);
    // However long it ran, the directory holds at most each spammer's quota of their rooms.
    const reader = httpClient(server.url, bystanderToken, bystanderAddress());
    const spam = await allRoomPages((cursor) => reader.rooms.directory.query({ name: 'spam-', cursor, limit: 100 }));
    expect(spam.length).toBeLessThanOrEqual(tokens.length * DEFAULT_WRITES.roomsPerHour);
  }, 120_000);

  it.each([
    { from: 'one address', label: 'HTTP flood' },
    { from: 'anywhere', label: 'HTTP flood, one user from anywhere' },
  ] as const)(
    'answers an HTTP flood of one user from $from with 429 and Retry-After',
    async ({ from, label }) => {
      const tokens = await attackerTokens(1);
      const outcome = await underAttack(
        label,
        { kind: 'http-flood', from, tokens, inFlight: 20, maxCalls: 1_000_000, maxMs: 60_000 },
        'measured',
      );
      expect(outcome.refused).toBeGreaterThan(outcome.calls / 2);
    },
    120_000,
  );
});
