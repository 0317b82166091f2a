import { randomUUID } from 'node:crypto';
import { DEFAULT_RECONNECT } from '@tether/client';
import { killAllServers, respawn, type ServerProcess, spawnServer } from '@tether/testing';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { gapsAndDuplicates, observeRoom } from '../helpers/room-observer';
import { clientFactory, signUpUser } from '../helpers/test-server';

const CLIENTS = 1_000;
const BUCKET_MS = 100;

let server: ServerProcess;
const clients = clientFactory(() => server.wsUrl);

afterEach(() => clients.disposeAll());
afterAll(() => killAllServers());

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

describe('a reconnect storm', () => {
  it('1,000 subscribed clients spread their reconnects after a restart and all resume exactly once', async () => {
    server = await spawnServer({
      env: {
        LOG_LEVEL: 'info',
        // 1,000 clients of one user on one address: the per-user and per-address caps are not under test here.
        TETHER_MAX_CONNECTIONS_PER_ADDRESS: '2000',
        TETHER_MAX_SOCKETS_PER_ADDRESS: '2100',
        TETHER_MAX_CONNECTIONS_PER_PRINCIPAL: '2000',
        TETHER_MAX_SUBSCRIPTIONS_PER_PRINCIPAL: '2000',
      },
    });
    const alice = await signUpUser(clients, 'alice');
    const room = await alice.client.trpc.rooms.create.mutate({
      name: `storm-${randomUUID().slice(0, 8)}`,
      visibility: 'public',
    });
    // The library's default backoff, as applications get it: only the URL and token are set.
    const crowd = Array.from({ length: CLIENTS }, () =>
      clients.connect({ getToken: () => alice.session.accessToken, reconnect: DEFAULT_RECONNECT }),
    );
    const observers = crowd.map((client) => observeRoom(client, room.id, '0'));
    // When each client scheduled the attempt that finally connected: what jitter controls,
    // read from the client's own status (the server's log also reflects its own backlog).
    const finalAttemptAt = new Map<number, number>();
    crowd.forEach((client, index) => {
      let scheduled: number | null = null;
      client.status.subscribe((status) => {
        // A draw of 0 ms is a valid full-jitter delay too: every reconnecting status counts.
        if (status.state === 'reconnecting' && status.retryAt !== null) scheduled = status.retryAt;
        if (status.state === 'connected' && scheduled !== null) finalAttemptAt.set(index, scheduled);
      });
    });
    await Promise.all(observers.map((o) => o.live));
    await alice.client.trpc.messages.send.mutate({
      roomId: room.id,
      body: 'before',
      idempotencyKey: `k-${randomUUID()}`,
    });

    const stopping = server;
    stopping.signal('SIGTERM');
    await stopping.exited;
    server = await respawn(stopping);
    const upAt = Date.parse(String(server.logs.find((l) => l.event === 'server.listening')?.time));
    await Promise.all(crowd.map((client) => client.status.waitFor('connected')));
    const after = await alice.client.trpc.messages.send.mutate({
      roomId: room.id,
      body: 'after',
      idempotencyKey: `k-${randomUUID()}`,
    });
    await Promise.all(observers.map((o) => o.untilSeq(after.seq)));

    let checked = 0;
    for (const observer of observers) {
      expect(gapsAndDuplicates(observer.events)).toEqual({ gaps: [], duplicates: [] });
      expect(observer.events.map((e) => e.seq)).toEqual([1, 2, 3]);
      checked += observer.events.length;
    }

    const spread = (times: number[]) => {
      const sorted = [...times].sort((a, b) => a - b);
      const buckets = new Map<number, number>();
      for (const at of sorted)
        buckets.set(Math.floor(at / BUCKET_MS), (buckets.get(Math.floor(at / BUCKET_MS)) ?? 0) + 1);
      const busiest = Math.max(...buckets.values());
      const text = `p10 ${percentile(sorted, 10)}, p50 ${percentile(sorted, 50)}, p90 ${percentile(sorted, 90)}, max ${sorted.at(-1)}; busiest ${BUCKET_MS} ms window ${((100 * busiest) / sorted.length).toFixed(1)}%`;
      return { share: busiest / sorted.length, text };
    };
    const attempts = spread([...finalAttemptAt.values()].map((at) => at - upAt));
    const arrivals = spread(
      server.logs.filter((line) => line.event === 'session.open').map((line) => Date.parse(line.time) - upAt),
    );
    console.info(
      `[figures] reconnect storm, ${CLIENTS} clients, ms after the server was up: final attempts scheduled by the clients ${attempts.text}; ` +
        `arrivals logged by the server ${arrivals.text}; ${checked} events checked: 0 lost, 0 duplicated`,
    );
    expect(finalAttemptAt.size).toBe(CLIENTS);
    // Without jitter every client would schedule the same instant; with it no window takes a large share.
    expect(attempts.share).toBeLessThan(0.25);
  });
});
