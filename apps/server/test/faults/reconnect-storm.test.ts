import { randomUUID } from 'node:crypto';
import { DEFAULT_RECONNECT } from '@tether/client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { gapsAndDuplicates, observeRoom } from '../helpers/room-observer';
import { killAllServers, respawn, type ServerProcess, spawnServer } from '../helpers/server-process';
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
    server = await spawnServer({ env: { LOG_LEVEL: 'info' } });
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

    // Arrival times at the restarted server, from its own connection log.
    const arrivals = server.logs
      .filter((line) => line.event === 'ws.open')
      .map((line) => Date.parse(line.time) - upAt)
      .sort((a, b) => a - b);
    expect(arrivals.length).toBeGreaterThanOrEqual(CLIENTS);
    const buckets = new Map<number, number>();
    for (const at of arrivals)
      buckets.set(Math.floor(at / BUCKET_MS), (buckets.get(Math.floor(at / BUCKET_MS)) ?? 0) + 1);
    const busiest = Math.max(...buckets.values());
    console.info(
      `[figures] reconnect storm: ${arrivals.length} connections after the restart; ms after the server was up: ` +
        `p10 ${percentile(arrivals, 10)}, p50 ${percentile(arrivals, 50)}, p90 ${percentile(arrivals, 90)}, ` +
        `max ${arrivals.at(-1)}; busiest ${BUCKET_MS} ms window held ${busiest} (${((100 * busiest) / arrivals.length).toFixed(1)}%); ` +
        `${checked} events checked across ${CLIENTS} clients: 0 lost, 0 duplicated`,
    );
    // Without jitter every client would land in the same window; with it no window takes a large share.
    expect(busiest / arrivals.length).toBeLessThan(0.25);
  });
});
