import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TetherClient } from '@tether/client';
import type { AppRouter, Message } from '@tether/protocol';
import { killAllServers, type ServerProcess, spawnServer } from '@tether/testing';
import { TRPCClientError } from '@trpc/client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { gapsAndDuplicates, observeRoom } from '../helpers/room-observer';
import { announceSkip } from '../helpers/test-env';
import { clientFactory, signUpUser } from '../helpers/test-server';

const MiB = 1024 * 1024;
const SUITE = 'disk-full faults';
/** What a client reads when writes are refused for space (public-errors.ts, store-errors.ts). */
const FULL_MESSAGE = 'the server is out of storage space: writes are refused until space is freed';
/** While the engine reopens after a PANIC on a full disk, calls fail as unavailable instead. */
const UNAVAILABLE_MESSAGE = 'the database is unavailable; try again shortly';
/** A statement PGlite never returns from (it spins after some PANICs) is stopped after the statement timeout. */
const TIMEOUT_MESSAGE = 'the database did not answer in time; try again shortly';
/** A request with no answer after this long is a hang (the client fails it with RequestTimeoutError). */
const CALL_BOUND_MS = 15_000;
/** The liveness probe must answer within this, whatever the store is doing. */
const HEALTH_BOUND_MS = 2_000;

const run = promisify(execFile);

/**
 * Why the suite cannot run here, or null: it needs a private mount namespace
 * (root, util-linux `unshare`), a tmpfs in it, `fallocate`, and `nsenter` into it.
 */
function mountNamespaceUnavailable(): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'tether-probe-'));
  try {
    const probe =
      'mount -t tmpfs -o size=1m tether-probe "$1" && fallocate -l 64k "$1/probe" && nsenter --target $$ --mount true';
    execFileSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', probe, 'sh', dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 10_000,
    });
    return null;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return `cannot mount a tmpfs in a private mount namespace (needs root and util-linux unshare/nsenter/fallocate): ${stderr || (error as Error).message}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const skipReason = mountNamespaceUnavailable();
if (skipReason) announceSkip(SUITE, skipReason);

let server: ServerProcess;
const clients = clientFactory(() => server.wsUrl);

afterEach(async () => {
  await clients.disposeAll();
  // A server wedged by a failed test must not spin on through the next one.
  await killAllServers();
});
afterAll(() => killAllServers());

/** Runs a command in the server's mount namespace, where its tmpfs data dir is mounted. */
async function inServerMounts(target: ServerProcess, argv: string[]): Promise<string> {
  const { stdout } = await run('nsenter', ['--target', String(target.pid), '--mount', '--', ...argv], {
    timeout: 10_000,
  });
  return stdout;
}

/** The data dir's filesystem as the server sees it. */
async function dataDisk(target: ServerProcess): Promise<{ type: string; totalBytes: number; availableBytes: number }> {
  const [type, blocks, available, blockSize] = (
    await inServerMounts(target, ['stat', '--file-system', '--format', '%T %b %a %S', target.dataDir])
  )
    .trim()
    .split(' ');
  return {
    type: type ?? '',
    totalBytes: Number(blocks) * Number(blockSize),
    availableBytes: Number(available) * Number(blockSize),
  };
}

/** Fills the server's disk with a file of its own, leaving about `leaveBytes` available. */
async function fillLeaving(target: ServerProcess, leaveBytes: number): Promise<void> {
  const { availableBytes } = await dataDisk(target);
  const size = Math.floor((availableBytes - leaveBytes) / 4096) * 4096;
  expect(size).toBeGreaterThan(0);
  await inServerMounts(target, ['fallocate', '--length', String(size), join(target.dataDir, 'filler')]);
}

async function removeFiller(target: ServerProcess): Promise<void> {
  await inServerMounts(target, ['rm', join(target.dataDir, 'filler')]);
}

/** What a stalled server is doing: its CPU use over 2 s, and its disk. */
async function wedgeEvidence(target: ServerProcess): Promise<Record<string, unknown>> {
  const cpuTicks = async () => {
    const fields = (await readFile(`/proc/${target.pid}/stat`, 'utf8')).split(' ');
    return Number(fields[13]) + Number(fields[14]);
  };
  try {
    const before = await cpuTicks();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    // Clock ticks are 1/100 s on Linux: over 2 s, 200 ticks is one core busy all along.
    const cpuBusyPercent = ((await cpuTicks()) - before) / 2;
    const walSegments = (await inServerMounts(target, ['ls', join(target.dataDir, 'pglite', 'pg_wal')]))
      .split('\n')
      .filter((f) => /^[0-9A-F]{24}$/.test(f));
    return { cpuBusyPercent, disk: await dataDisk(target), walSegments };
  } catch (error) {
    return { evidenceError: String(error) };
  }
}

/** Whether the process has exited since this was called. */
function watchForExit(target: ServerProcess): () => boolean {
  let exited = false;
  void target.exited.then(() => {
    exited = true;
  });
  return () => exited;
}

/** One HTTP probe, abandoned after `boundMs` (status null: no answer in time). */
async function probe(
  target: ServerProcess,
  path: string,
  boundMs: number,
): Promise<{ status: number | null; ms: number }> {
  const started = performance.now();
  try {
    const response = await fetch(`${target.url}${path}`, { signal: AbortSignal.timeout(boundMs) });
    await response.arrayBuffer();
    return { status: response.status, ms: performance.now() - started };
  } catch {
    return { status: null, ms: performance.now() - started };
  }
}

/** What a refused call carries: its tRPC code and message; anything else (a timeout, a dropped socket) as it came. */
function refusal(error: unknown): { code: string | undefined; message: string } {
  if (error instanceof TRPCClientError) {
    return { code: (error as TRPCClientError<AppRouter>).data?.code, message: error.message };
  }
  return { code: undefined, message: String(error) };
}

/** Polls `attempt` until it resolves, at most `attempts` times `intervalMs` apart; returns its value and the errors before it. */
async function untilSucceeds<T>(
  attempt: () => Promise<T>,
  { attempts, intervalMs }: { attempts: number; intervalMs: number },
): Promise<{ value: T; errors: unknown[] }> {
  const errors: unknown[] = [];
  for (let i = 0; i < attempts; i += 1) {
    try {
      return { value: await attempt(), errors };
    } catch (error) {
      errors.push(error);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
  throw new Error(
    `no success in ${attempts} attempts; last errors: ${errors
      .slice(-3)
      .map((e) => JSON.stringify(refusal(e)))
      .join(', ')}`,
  );
}

/** Every message of a room, through messages.list pages (newest first), bounded by `maxPages`. */
async function allMessages(client: TetherClient, roomId: string, maxPages: number): Promise<Message[]> {
  const messages: Message[] = [];
  let beforeSeq: number | undefined;
  for (let page = 0; page < maxPages; page += 1) {
    const result = await client.trpc.messages.list.query({ roomId, limit: 100, beforeSeq });
    messages.push(...result.messages);
    if (result.nextBeforeSeq === null) return messages;
    beforeSeq = result.nextBeforeSeq;
  }
  throw new Error(`more than ${maxPages} pages of messages`);
}

function countById(messages: Message[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of messages) counts.set(message.id, (counts.get(message.id) ?? 0) + 1);
  return counts;
}

/** Log events at warn or above, counted: evidence for a failure message. */
function troubleInLogs(target: ServerProcess): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of target.logs) {
    if (line.level === 'warn' || line.level === 'error' || line.level === 'fatal') {
      counts[line.event] = (counts[line.event] ?? 0) + 1;
    }
  }
  return counts;
}

describe.skipIf(skipReason !== null)('a server whose disk fills up', () => {
  it('refuses writes cleanly under the free-space floor and resumes them when space returns', async () => {
    const FLOOR_MIB = 48;
    server = await spawnServer({
      mountTmpfs: { sizeMiB: 160 },
      env: { TETHER_MIN_FREE_DISK_MB: String(FLOOR_MIB) },
    });
    const hasExited = watchForExit(server);
    // The test is about this disk, not the machine's.
    const disk = await dataDisk(server);
    expect(disk.type).toBe('tmpfs');
    expect(disk.totalBytes).toBe(160 * MiB);

    const alice = await signUpUser(clients, 'alice');
    const room = await alice.client.trpc.rooms.create.mutate({
      name: `full-${randomUUID().slice(0, 8)}`,
      visibility: 'public',
    });
    const bob = await signUpUser(clients, 'bob');
    await bob.client.trpc.rooms.join.mutate({ roomId: room.id });
    const send = (key: string, body: string) =>
      alice.client.trpc.messages.send.mutate({ roomId: room.id, body, idempotencyKey: `${room.id}:${key}` });
    const acknowledged: Message[] = [await send('before', 'sent before the disk filled')];

    await fillLeaving(server, 16 * MiB);
    expect((await dataDisk(server)).availableBytes).toBeLessThan(FLOOR_MIB * MiB);

    // The server reads free space at most every 500 ms: a send may still pass just after the fill, not for long.
    const filledAt = performance.now();
    let refused: unknown = null;
    for (let i = 0; i < 40 && refused === null && performance.now() - filledAt < 5_000; i += 1) {
      try {
        acknowledged.push(await send(`probe-${i}`, `probe ${i}`));
        await new Promise((resolve) => setTimeout(resolve, 100));
      } catch (error) {
        refused = error;
      }
    }
    const refusedAfterMs = performance.now() - filledAt;
    expect(refusal(refused)).toEqual({ code: 'SERVICE_UNAVAILABLE', message: FULL_MESSAGE });
    expect(refusedAfterMs).toBeLessThan(2_000);

    // While under the floor: every write refused the same way, nothing else affected.
    const refusedSend = await send('while-full', 'sent while the disk was full').catch((error: unknown) => error);
    expect(refusal(refusedSend)).toEqual({ code: 'SERVICE_UNAVAILABLE', message: FULL_MESSAGE });
    const refusedRoom = await alice.client.trpc.rooms.create
      .mutate({ name: `full-2-${randomUUID().slice(0, 8)}`, visibility: 'public' })
      .catch((error: unknown) => error);
    expect(refusal(refusedRoom)).toEqual({ code: 'SERVICE_UNAVAILABLE', message: FULL_MESSAGE });
    expect((await probe(server, '/healthz', HEALTH_BOUND_MS)).status).toBe(200);
    expect((await alice.client.trpc.rooms.list.query()).rooms.map((r) => r.id)).toContain(room.id);
    const aliceReads = await alice.client.trpc.messages.list.query({ roomId: room.id });
    expect(aliceReads.messages.map((m) => m.id).sort()).toEqual(acknowledged.map((m) => m.id).sort());
    // A second user, on a connection opened while the disk is full, reads the same.
    const bobNow = clients.connect({ getToken: () => bob.session.accessToken });
    const bobReads = await bobNow.trpc.messages.list.query({ roomId: room.id });
    expect(bobReads.messages.map((m) => m.id).sort()).toEqual(acknowledged.map((m) => m.id).sort());
    expect((await bobNow.trpc.rooms.list.query()).rooms.map((r) => r.id)).toContain(room.id);
    expect(hasExited()).toBe(false);

    await removeFiller(server);
    expect((await dataDisk(server)).availableBytes).toBeGreaterThan(FLOOR_MIB * MiB);
    const freedAt = performance.now();
    // The refused send, sent again with its key: applied now, once.
    const resumed = await untilSucceeds(() => send('while-full', 'sent while the disk was full'), {
      attempts: 40,
      intervalMs: 100,
    });
    const resumeMs = performance.now() - freedAt;
    for (const error of resumed.errors) {
      expect(refusal(error)).toEqual({ code: 'SERVICE_UNAVAILABLE', message: FULL_MESSAGE });
    }
    acknowledged.push(resumed.value);
    acknowledged.push(await send('after', 'sent after space returned'));

    // No restart: the same process, listening once, and everything acknowledged is there exactly once.
    expect(hasExited()).toBe(false);
    expect(server.logs.filter((line) => line.event === 'server.listening')).toHaveLength(1);
    const stored = await allMessages(bobNow, room.id, 5);
    expect(stored).toHaveLength(acknowledged.length);
    const counts = countById(stored);
    for (const message of acknowledged) expect(counts.get(message.id)).toBe(1);
    expect(stored.map((m) => m.body)).toContain('sent before the disk filled');
    console.info(
      `[figures] writes refused ${Math.round(refusedAfterMs)} ms after the fill ` +
        `(${acknowledged.length - 3} probe sends passed first); resumed ${Math.round(resumeMs)} ms after space returned`,
    );
  });

  /**
   * With the floor off, PGlite meets ENOSPC itself. Where depends on what it
   * needs next: with a few MiB left a table or index cannot grow (an ERROR,
   * SQLSTATE 53100); with more left than that but less than a WAL segment
   * (16 MiB), the WAL fills first and the next segment cannot be created (a
   * PANIC, inside COMMIT).
   */
  it.each([
    { leaveMiB: 4, where: 'a table cannot grow' },
    { leaveMiB: 12, where: 'no new WAL segment can be created' },
  ])('survives the engine itself running out of space where $where', async ({ leaveMiB }) => {
    const MAX_SENDS = 5_000;
    const SENDERS = 4;
    /** Refusals to collect before stopping: enough to go through the engine's failure, close and reopen. */
    const REFUSALS_WANTED = 60;
    server = await spawnServer({
      mountTmpfs: { sizeMiB: 96 },
      env: {
        TETHER_MIN_FREE_DISK_MB: '0',
        TETHER_RATE_PER_SECOND: '100000',
        TETHER_RATE_BURST: '100000',
      },
    });
    const target = server;
    const hasExited = watchForExit(target);
    expect((await dataDisk(target)).type).toBe('tmpfs');

    const alice = await signUpUser(clients, 'alice');
    const room = await alice.client.trpc.rooms.create.mutate({
      name: `enospc-${randomUUID().slice(0, 8)}`,
      visibility: 'public',
    });
    const senders = Array.from({ length: SENDERS }, () =>
      clients.connect({ getToken: () => alice.session.accessToken, requests: { timeoutMs: CALL_BOUND_MS } }),
    );
    const bodyOf = (key: string) => `${key} ${'x'.repeat(3_500)}`;
    const send = (client: TetherClient, key: string) =>
      client.trpc.messages.send.mutate({ roomId: room.id, body: bodyOf(key), idempotencyKey: `${room.id}:${key}` });

    await fillLeaving(target, leaveMiB * MiB);
    const filled = await dataDisk(target);
    const filledAt = performance.now();

    const acknowledged = new Map<string, Message>();
    const refusedKeys: string[] = [];
    const refusals: Array<{ code: string | undefined; message: string; ms: number }> = [];
    let attempts = 0;
    let wedged: Record<string, unknown> | null = null;

    // Liveness probed all along, each probe bounded; the first that goes unanswered stops the sends.
    const probes: Array<{ path: string; status: number | null; ms: number }> = [];
    let sending = true;
    const prober = (async () => {
      for (let i = 0; i < 10_000 && sending; i += 1) {
        const health = await probe(target, '/healthz', HEALTH_BOUND_MS);
        probes.push({ path: '/healthz', ...health });
        if (health.status !== 200) {
          wedged = {
            afterSends: attempts,
            acknowledged: acknowledged.size,
            sinceFillMs: Math.round(performance.now() - filledAt),
            ...(await wedgeEvidence(target)),
          };
          return;
        }
        probes.push({ path: '/readyz', ...(await probe(target, '/readyz', 5_000)) });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    const startedAt = performance.now();
    await Promise.all(
      senders.map(async (client, sender) => {
        for (let i = 0; attempts < MAX_SENDS && refusals.length < REFUSALS_WANTED && !wedged; i += 1) {
          attempts += 1;
          const key = `s${sender}-${i}`;
          const sentAt = performance.now();
          try {
            acknowledged.set(key, await send(client, key));
          } catch (error) {
            refusedKeys.push(key);
            refusals.push({ ...refusal(error), ms: performance.now() - sentAt });
          }
        }
      }),
    );
    const sendingMs = performance.now() - startedAt;
    sending = false;
    await prober;
    const evidence = JSON.stringify({ filled, attempts, acknowledged: acknowledged.size, logs: troubleInLogs(target) });

    // Liveness never stalled (a server spinning in the engine answers nothing).
    expect(wedged, `/healthz went unanswered: ${JSON.stringify(wedged)}`).toBeNull();
    const health = probes.filter((p) => p.path === '/healthz');
    expect(health.length).toBeGreaterThan(0);
    expect(probes.filter((p) => p.status === null)).toEqual([]);
    expect(hasExited(), evidence).toBe(false);
    // The engine met the full disk: sends were refused, each promptly, as a retryable
    // SERVICE_UNAVAILABLE with a human message (never driver text, never a hang).
    expect(refusals.length, evidence).toBeGreaterThan(0);
    for (const { code, message, ms } of refusals) {
      expect(code, `${message} ${evidence}`).toBe('SERVICE_UNAVAILABLE');
      expect([FULL_MESSAGE, UNAVAILABLE_MESSAGE, TIMEOUT_MESSAGE]).toContain(message);
      expect(ms).toBeLessThan(CALL_BOUND_MS);
    }

    // Space returns: writes resume in the same process, and every refused send,
    // sent again with its key, is applied exactly once.
    await removeFiller(target);
    const freedAt = performance.now();
    const first = refusedKeys[0] as string;
    const resumed = await untilSucceeds(() => send(alice.client, first), { attempts: 60, intervalMs: 250 });
    const resumeMs = performance.now() - freedAt;
    acknowledged.set(first, resumed.value);
    for (const key of refusedKeys.slice(1)) acknowledged.set(key, await send(alice.client, key));
    expect(hasExited()).toBe(false);
    expect(target.logs.filter((line) => line.event === 'server.listening')).toHaveLength(1);

    const stored = await allMessages(alice.client, room.id, Math.ceil(MAX_SENDS / 100) + 2);
    expect(stored).toHaveLength(acknowledged.size);
    const counts = countById(stored);
    const bodies = new Map(stored.map((m) => [m.id, m.body]));
    for (const [key, message] of acknowledged) {
      expect(counts.get(message.id), key).toBe(1);
      expect(bodies.get(message.id), key).toBe(bodyOf(key));
    }
    // The room's event log, replayed from the start: gap-free and each seq once.
    const lastSeq = Math.max(...[...acknowledged.values()].map((m) => m.seq));
    const auditor = observeRoom(alice.client, room.id, '0');
    await auditor.live;
    await auditor.untilSeq(lastSeq);
    expect(gapsAndDuplicates(auditor.events)).toEqual({ gaps: [], duplicates: [] });
    expect(auditor.events[0]?.seq).toBe(1);
    expect(auditor.events.filter((e) => e.type === 'message.sent')).toHaveLength(acknowledged.size);

    const causes = target.logs.flatMap((line) => (line.event === 'store.unavailable' ? [line.cause] : []));
    console.info(
      `[figures] ${leaveMiB} MiB left: ${attempts} sends in ${Math.round(sendingMs)} ms, ` +
        `${attempts - refusals.length} acknowledged, ${refusals.length} refused (slowest ${Math.round(Math.max(...refusals.map((r) => r.ms)))} ms); ` +
        `${health.length} health probes, slowest ${Math.round(Math.max(...health.map((p) => p.ms)))} ms; ` +
        `resumed ${Math.round(resumeMs)} ms after space returned; causes logged: ${JSON.stringify(causes)}`,
    );
  });

  it('refuses to start with a readable reason when the disk is already too full for a database', async () => {
    // Less than a fresh PGlite database needs (~40 MB).
    const started = performance.now();
    const failure = await spawnServer({ mountTmpfs: { sizeMiB: 24 } }).then(
      (unexpected) => new Error(`server started on a 24 MiB disk (pid ${unexpected.pid})`),
      (error: unknown) => error as Error,
    );
    expect(failure.message).toMatch(/server exited \(1\) before listening/);
    expect(failure.message).toMatch(/tether server failed to start: .*(space|storage|ENOSPC)/i);
    expect(performance.now() - started).toBeLessThan(60_000);
  });
});
