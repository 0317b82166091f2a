import { randomBytes } from 'node:crypto';
import type { ConnectionState, TetherClient } from '@tether/client';
import type { Message } from '@tether/protocol';
import { killAllServers, type ServerProcess, spawnServer, startTcpProxy, type TcpProxy } from '@tether/testing';
import { TRPCClientError } from '@trpc/client';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../helpers/scratch-database';
import { announceSkip, testEnv } from '../helpers/test-env';
import { clientFactory, signUpUser } from '../helpers/test-server';

const SUITE = 'database outage faults';
const databaseUrl = testEnv.databaseUrl;
if (!databaseUrl) {
  announceSkip(SUITE, 'DATABASE_URL is not set: these faults need a real PostgreSQL behind a proxy (CI sets it)');
}

const STATEMENT_TIMEOUT_MS = 2_000;
const CONNECT_TIMEOUT_MS = 1_000;
const READY_TIMEOUT_MS = 500;
/** Short database limits, so failures arrive in seconds; a rate limit far above what the senders reach. */
const SERVER_ENV = {
  TETHER_DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
  TETHER_DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
  TETHER_DB_POOL_SIZE: '4',
  TETHER_READY_TIMEOUT_MS: String(READY_TIMEOUT_MS),
  TETHER_RATE_PER_SECOND: '100000',
  TETHER_RATE_BURST: '100000',
};
/** A health probe that takes longer than this counts as hanging. */
const PROBE_LIMIT_MS = 2_000;
/** What a client may be told when the database fails (store-errors.ts): human, retryable, no driver text. */
const HUMAN_MESSAGE = /^the database (is unavailable|did not answer in time); try again shortly$/;
const DRIVER_TEXT =
  /terminat|ECONN|EPIPE|connection|pg_|57P|administrator|socket|timeout exceeded|read timeout|postgres/i;

let server: ServerProcess | undefined;
let serverExited = false;
let proxy: TcpProxy | undefined;
/** Straight to the fault database, not through the proxy: the test's own view of what was stored. */
let direct: pg.Client | undefined;
let faultDb: ScratchDatabase | undefined;
const clients = clientFactory(() => {
  if (!server) throw new Error('no server');
  return server.wsUrl;
});

/** Races `promise` against a deadline, naming what was awaited. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function liveServer(): ServerProcess {
  if (!server) throw new Error('no server');
  return server;
}

/** One HTTP probe, timed; it must answer within PROBE_LIMIT_MS (a hang fails here). */
async function probe(path: '/healthz' | '/readyz'): Promise<{ status: number; body: unknown; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${liveServer().url}${path}`, { signal: AbortSignal.timeout(PROBE_LIMIT_MS) });
  const body: unknown = await response.json();
  return { status: response.status, body, ms: performance.now() - started };
}

/** Probes /readyz until it answers `status`: bounded in attempts and time, each attempt a real request. */
async function readyzUntil(status: 200 | 503): Promise<{ attempts: number; ms: number }> {
  const started = performance.now();
  const seen: number[] = [];
  for (let attempt = 1; attempt <= 500 && performance.now() - started < 15_000; attempt += 1) {
    const answer = await probe('/readyz');
    expect(answer.ms).toBeLessThan(PROBE_LIMIT_MS);
    if (answer.status === status) return { attempts: attempt, ms: performance.now() - started };
    seen.push(answer.status);
  }
  throw new Error(`/readyz never answered ${status} (answers: ${seen.slice(-5).join(', ')})`);
}

async function expectHealthy(): Promise<void> {
  const health = await probe('/healthz');
  expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
  expect(serverExited).toBe(false);
}

/** What a failed call showed its caller. */
function failureOf(error: unknown): { code: string | undefined; message: string } {
  if (!(error instanceof TRPCClientError)) return { code: undefined, message: String(error) };
  const data: unknown = error.data;
  const code =
    typeof data === 'object' && data !== null && 'code' in data && typeof data.code === 'string'
      ? data.code
      : undefined;
  return { code, message: error.message };
}

function expectPublicDatabaseFailure(failure: { code: string | undefined; message: string }): void {
  expect(failure.code).toBe('SERVICE_UNAVAILABLE');
  expect(failure.message).toMatch(HUMAN_MESSAGE);
  expect(failure.message).not.toMatch(DRIVER_TEXT);
}

interface Attempt {
  client: TetherClient;
  key: string;
  body: string;
}

/**
 * Every keyed send and what came of it. A key ends either acknowledged (with
 * the message the server returned) or failed (its last answer); waiters hear
 * about each acknowledgement as it happens.
 */
function createLedger(roomId: string) {
  const acked = new Map<string, Message>();
  const failed = new Map<string, Attempt>();
  const failures: Array<{ code: string | undefined; message: string; ms: number }> = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];

  async function send(attempt: Attempt): Promise<boolean> {
    const started = performance.now();
    try {
      const message = await attempt.client.trpc.messages.send.mutate({
        roomId,
        body: attempt.body,
        idempotencyKey: attempt.key,
      });
      acked.set(attempt.key, message);
      failed.delete(attempt.key);
      for (const waiter of waiters.filter((w) => acked.size >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      return true;
    } catch (error) {
      failures.push({ ...failureOf(error), ms: performance.now() - started });
      failed.set(attempt.key, attempt);
      return false;
    }
  }

  return {
    acked,
    failed,
    failures,
    send,
    /** Resolves once `count` keys are acknowledged (the server is writing). */
    ackedAtLeast(count: number, ms = 15_000): Promise<void> {
      if (acked.size >= count) return Promise.resolve();
      const reached = new Promise<void>((resolve) => waiters.push({ count, resolve }));
      return within(ms, `${count} acknowledged sends (have ${acked.size})`, reached);
    },
    /** Sends every failed key again, same body, same key: each must now be acknowledged. */
    async retryFailed(): Promise<void> {
      const retries = [...failed.values()];
      const results = await Promise.all(retries.map((attempt) => send(attempt)));
      expect(results.every(Boolean), `retries after recovery: ${JSON.stringify(failures.slice(-3))}`).toBe(true);
    },
  };
}

type Ledger = ReturnType<typeof createLedger>;

/** A public room and `senders` signed-in members, each on its own connection. */
async function chatRoom(senders: number): Promise<{ roomId: string; members: TetherClient[] }> {
  const members: TetherClient[] = [];
  for (let i = 0; i < senders; i += 1) members.push((await signUpUser(clients, `dbfault${i}`)).client);
  const [owner] = members;
  if (!owner) throw new Error('no members');
  const room = await owner.trpc.rooms.create.mutate({
    name: `db-outage-${randomBytes(4).toString('hex')}`,
    visibility: 'public',
  });
  for (const member of members.slice(1)) await member.trpc.rooms.join.mutate({ roomId: room.id });
  return { roomId: room.id, members };
}

/** Every connection state a client passes through from now on. */
function recordStates(client: TetherClient): ConnectionState[] {
  const states: ConnectionState[] = [];
  client.status.subscribe((status) => states.push(status.state));
  return states;
}

async function sendNumbered(ledger: Ledger, client: TetherClient, prefix: string, count: number): Promise<boolean[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      ledger.send({ client, key: `dbfault:${prefix}:${i}`, body: `${prefix} ${i}` }),
    ),
  );
}

/**
 * The store's own account, read past the proxy: every acknowledged key's
 * message stored exactly once, as acknowledged; no message without an
 * acknowledged key; the room's event log gap-free from 1.
 */
async function expectExactlyOnce(ledger: Ledger, roomId: string): Promise<{ messages: number; lastSeq: number }> {
  if (!direct) throw new Error('no direct connection');
  const { rows } = await direct.query<{ id: string; body: string; seq: number }>(
    'SELECT id, body, seq FROM messages WHERE room_id = $1 ORDER BY seq',
    [roomId],
  );
  const byBody = new Map<string, Array<{ id: string; seq: number }>>();
  for (const row of rows) byBody.set(row.body, [...(byBody.get(row.body) ?? []), { id: row.id, seq: row.seq }]);
  for (const message of ledger.acked.values()) {
    expect(byBody.get(message.body), `stored copies of "${message.body}"`).toEqual([
      { id: message.id, seq: message.seq },
    ]);
  }
  expect(rows).toHaveLength(ledger.acked.size);

  const streamId = `room:${roomId}`;
  const events = await direct.query<{ seq: number; type: string }>(
    `SELECT seq, payload->'json'->>'type' AS type FROM stream_events WHERE stream_id = $1 ORDER BY seq`,
    [streamId],
  );
  const seqs = events.rows.map((row) => row.seq);
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  const head = await direct.query<{ last_seq: number }>('SELECT last_seq FROM event_streams WHERE stream_id = $1', [
    streamId,
  ]);
  expect(head.rows[0]?.last_seq).toBe(seqs.length);
  expect(events.rows.filter((row) => row.type === 'message.sent')).toHaveLength(rows.length);
  return { messages: rows.length, lastSeq: seqs.length };
}

afterAll(() => killAllServers());

describe.skipIf(!databaseUrl)('a server whose PostgreSQL fails under it', () => {
  beforeEach(async () => {
    if (!databaseUrl) throw new Error('unreachable: the suite is skipped without DATABASE_URL');
    faultDb = await createScratchDatabase(databaseUrl, 'tether_fault');
    const target = new URL(databaseUrl);
    proxy = await startTcpProxy({
      targetHost: target.hostname.replace(/^\[|\]$/g, ''),
      targetPort: Number(target.port || 5432),
    });
    const viaProxy = new URL(faultDb.url);
    viaProxy.hostname = proxy.host;
    viaProxy.port = String(proxy.port);
    serverExited = false;
    server = await spawnServer({ env: { ...SERVER_ENV, DATABASE_URL: viaProxy.toString() } });
    void server.exited.then(() => {
      serverExited = true;
    });
    direct = new pg.Client({ connectionString: faultDb.url });
    await direct.connect();
  });

  afterEach(async () => {
    await clients.disposeAll();
    if (server && !serverExited) {
      server.signal('SIGKILL');
      await server.exited;
    }
    server = undefined;
    await proxy?.stop();
    proxy = undefined;
    await direct?.end();
    direct = undefined;
    await faultDb?.drop();
    faultDb = undefined;
  });

  it('survives its database connections being terminated mid-transaction', async () => {
    if (!direct || !faultDb) throw new Error('no fault database');
    const SENDERS = 3;
    const IN_FLIGHT = 4;
    const MAX_PER_LANE = 2_000;
    const TERMINATIONS = 3;
    const { roomId, members } = await chatRoom(SENDERS);
    const ledger = createLedger(roomId);
    const states = members.map(recordStates);

    let stop = false;
    const lanes = members.flatMap((client, s) =>
      Array.from({ length: IN_FLIGHT }, async (_, lane) => {
        for (let i = 0; i < MAX_PER_LANE && !stop; i += 1) {
          await ledger.send({
            client,
            key: `dbfault:s${s}:l${lane}:${i}`,
            body: `sender ${s} lane ${lane} message ${i}`,
          });
        }
      }),
    );

    // Terminate every server backend of the fault database, each time once writes flow again,
    // until three terminations caught a backend inside a transaction.
    let midTransaction = 0;
    let rounds = 0;
    try {
      for (; rounds < 30 && midTransaction < TERMINATIONS; rounds += 1) {
        await ledger.ackedAtLeast(ledger.acked.size + 25);
        const { rows } = await direct.query<{ in_transaction: boolean; terminated: boolean }>(
          `SELECT xact_start IS NOT NULL AS in_transaction, pg_terminate_backend(pid) AS terminated
           FROM pg_stat_activity
           WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
          [faultDb.name],
        );
        if (rows.some((row) => row.in_transaction && row.terminated)) midTransaction += 1;
      }
      // Sends succeed again after the last termination.
      await ledger.ackedAtLeast(ledger.acked.size + 100);
    } finally {
      stop = true;
      await Promise.all(lanes);
    }
    expect(midTransaction).toBe(TERMINATIONS);

    await expectHealthy();
    // Calls that failed were told, in human words, to try again; none saw driver text or an internal error.
    expect(ledger.failures.length).toBeGreaterThan(0);
    for (const failure of ledger.failures) expectPublicDatabaseFailure(failure);
    expect(liveServer().logs.filter((line) => line.event === 'trpc.error')).toEqual([]);

    // The database's connections dropped, not the clients': no WebSocket was closed over it.
    for (const seen of states) expect(seen).toEqual([]);

    await ledger.retryFailed();
    const stored = await expectExactlyOnce(ledger, roomId);
    console.info(
      `[figures] ${rounds} termination rounds (${midTransaction} mid-transaction); ${ledger.acked.size} keys acknowledged, ` +
        `${ledger.failures.length} calls failed with SERVICE_UNAVAILABLE; ${stored.messages} messages stored once, seqs 1..${stored.lastSeq}`,
    );
  });

  it('keeps serving health and recovers by itself when the database goes away and comes back', async () => {
    if (!proxy) throw new Error('no proxy');
    const { roomId, members } = await chatRoom(2);
    const [alice, bob] = members;
    if (!alice || !bob) throw new Error('no members');
    const ledger = createLedger(roomId);
    expect(await sendNumbered(ledger, alice, 'before', 20)).not.toContain(false);
    await readyzUntil(200);
    const states = members.map(recordStates);
    const pid = liveServer().pid;

    await proxy.stop();
    expect(proxy.connectionCount).toBe(0);
    await expectHealthy();
    const notReady = await readyzUntil(503);
    expect(await probe('/readyz')).toMatchObject({ status: 503, body: { status: 'unavailable' } });

    const during = [
      ...(await sendNumbered(ledger, alice, 'during-a', 3)),
      ...(await sendNumbered(ledger, bob, 'during-b', 3)),
    ];
    expect(during).toEqual(during.map(() => false));
    expect(ledger.failures).toHaveLength(6);
    for (const failure of ledger.failures) {
      expectPublicDatabaseFailure(failure);
      expect(failure.ms).toBeLessThan(CONNECT_TIMEOUT_MS + PROBE_LIMIT_MS);
    }
    await expectHealthy();

    await proxy.start();
    const ready = await readyzUntil(200);
    await ledger.retryFailed();
    expect(await sendNumbered(ledger, bob, 'after', 20)).not.toContain(false);
    // The same process served throughout, and no client lost its WebSocket over the database.
    expect(liveServer().pid).toBe(pid);
    await expectHealthy();
    for (const seen of states) expect(seen).toEqual([]);
    expect(liveServer().logs.filter((line) => line.event === 'trpc.error')).toEqual([]);

    const stored = await expectExactlyOnce(ledger, roomId);
    expect(stored.messages).toBe(46);
    console.info(
      `[figures] 503 after ${notReady.attempts} probe(s) in ${Math.round(notReady.ms)} ms; ready again after ` +
        `${ready.attempts} probe(s) in ${Math.round(ready.ms)} ms; ${stored.messages} messages stored once`,
    );
  });

  it('answers with a timeout error, not a hang, when the database stops answering', async () => {
    if (!proxy) throw new Error('no proxy');
    const { roomId, members } = await chatRoom(1);
    const [alice] = members;
    if (!alice) throw new Error('no members');
    const ledger = createLedger(roomId);
    // Warm the pool: the connections the server holds are the ones that go silent.
    expect(await sendNumbered(ledger, alice, 'before', 20)).not.toContain(false);
    await readyzUntil(200);
    const states = recordStates(alice);

    // The pool holds open connections through the proxy: those are the ones that go silent.
    expect(proxy.connectionCount).toBeGreaterThan(0);
    proxy.freeze();
    const started = performance.now();
    const during = await within(30_000, 'sends while frozen', sendNumbered(ledger, alice, 'frozen', 3));
    const elapsed = performance.now() - started;
    expect(during).toEqual([false, false, false]);
    for (const failure of ledger.failures) expectPublicDatabaseFailure(failure);
    const notReady = await readyzUntil(503);
    await expectHealthy();
    // Calls keep failing, not hanging, while it stays silent (a new connection: after the connect timeout).
    const later = await sendNumbered(ledger, alice, 'frozen-later', 1);
    expect(later).toEqual([false]);
    for (const failure of ledger.failures) expectPublicDatabaseFailure(failure);
    // A call on a silent connection must fail within the statement timeout, plus the driver's read
    // timeout margin (postgres-store.ts: query_timeout = statement timeout + 2 s), plus scheduling slack.
    const bound = STATEMENT_TIMEOUT_MS + 2_000 + 1_500;

    proxy.thaw();
    const ready = await readyzUntil(200);
    await ledger.retryFailed();
    expect(await sendNumbered(ledger, alice, 'after', 20)).not.toContain(false);
    expect(states).toEqual([]);
    expect(liveServer().logs.filter((line) => line.event === 'trpc.error')).toEqual([]);
    const stored = await expectExactlyOnce(ledger, roomId);
    expect(stored.messages).toBe(44);
    console.info(
      `[figures] frozen: 503 after ${Math.round(notReady.ms)} ms; sends failed after ${Math.round(elapsed)} ms ` +
        `(bound ${bound} ms; ${ledger.failures.map((f) => Math.round(f.ms)).join(', ')} ms); ready again after ${Math.round(ready.ms)} ms`,
    );
    expect(elapsed).toBeLessThan(bound);
    for (const failure of ledger.failures) expect(failure.ms).toBeLessThan(bound);
  });
});
