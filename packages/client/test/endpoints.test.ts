import { killAllServers, spawnServer } from '@tether/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createTetherClient } from '../src/node';

afterAll(() => killAllServers());

describe('a client given several endpoints (no load balancer)', () => {
  it('moves to the next when the process it is on dies, and goes on calling', async () => {
    const [first, second] = await Promise.all([spawnServer(), spawnServer()]);
    const client = createTetherClient({
      url: [first.wsUrl, second.wsUrl],
      reconnect: { baseMs: 20, maxMs: 200 },
      fallback: { enabled: false },
    });
    try {
      await client.status.waitFor('connected');
      expect(await client.trpc.connection.ping.query()).toBeNull();
      // The first socket went to the first endpoint: killed, the client goes on on the second.
      first.signal('SIGKILL');
      await first.exited;
      // A query is safe to send again: it waits for the next socket, which goes to the second endpoint.
      expect(await client.trpc.connection.ping.query()).toBeNull();
      expect(client.status.get().state).toBe('connected');
      const metrics = await (await fetch(`${second.url}/metrics`)).text();
      expect(Number(/_connections\{transport="websocket"\} (\d+)/.exec(metrics)?.[1] ?? 0)).toBe(1);
    } finally {
      await client.dispose();
    }
  }, 30_000);
});
