import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionParamsMessage, openRawSocket } from './helpers/raw-socket';
import { CURRENT_PROTOCOL_VERSION, httpClient, startTestServer, type TestServer } from './helpers/test-server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.dispose());

async function scrape(): Promise<string[]> {
  const response = await fetch(`${server.url}/metrics`);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return (await response.text()).split('\n');
}

/** Scrapes until `line` is there: the server counts a close when its socket's close event has run. */
async function scrapeUntil(line: string): Promise<string[]> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const lines = await scrape();
    if (lines.includes(line)) return lines;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return scrape();
}

describe('/metrics after a known workload', () => {
  it('counts connections, calls by procedure and outcome, subscriptions, close codes and bytes', async () => {
    const session = await httpClient(server.url).auth.signUp.mutate({
      username: `metered-${randomUUID().slice(0, 8)}`,
      password: 'a long password',
    });
    const room = await httpClient(server.url, session.accessToken).rooms.create.mutate({
      name: `m-${randomUUID().slice(0, 8)}`,
      visibility: 'public',
    });
    const socket = await openRawSocket(`${server.wsUrl}?connectionParams=1`);
    socket.send(connectionParamsMessage({ protocolVersion: CURRENT_PROTOCOL_VERSION, token: session.accessToken }));
    for (const id of [1, 2, 3]) {
      socket.send({ id, method: 'query', params: { path: 'connection.health', input: { json: null } } });
      await socket.waitForMessage((m) => m.id === id);
    }
    socket.send({ id: 4, method: 'query', params: { path: 'rooms.nothing', input: { json: null } } });
    await socket.waitForMessage((m) => m.id === 4);
    socket.send({
      id: 5,
      method: 'subscription',
      params: { path: 'rooms.events', input: { json: { roomId: room.id } } },
    });
    await socket.waitForMessage((m) => m.id === 5 && (m.result as { type?: string } | undefined)?.type === 'data');

    const during = await scrape();
    expect(during).toContain('tether_connections{transport="websocket"} 1');
    expect(during).toContain('tether_subscriptions{transport="websocket"} 1');
    expect(during).toContain('tether_calls_total{transport="websocket",path="connection.health",outcome="ok"} 3');
    // A path the router does not have is counted, under a label of its own that no client can multiply.
    expect(during).toContain('tether_calls_total{transport="websocket",path="unknown",outcome="NOT_FOUND"} 1');
    expect(during).toContain('tether_calls_total{transport="http",path="auth.signUp",outcome="ok"} 1');
    const received = during.find((line) => line.startsWith('tether_bytes_received_total{transport="websocket"}'));
    expect(Number(received?.split(' ')[1])).toBeGreaterThan(0);
    expect(during.some((line) => line.startsWith('nodejs_eventloop_lag_seconds'))).toBe(true);
    // The subscription's first item (its `synced` marker) was fanned out once.
    const fannedOut = during.find((line) => line.startsWith('tether_fanout_latency_seconds_count'));
    expect(Number(fannedOut?.split(' ')[1])).toBeGreaterThanOrEqual(1);

    socket.close();
    await socket.waitForClose();
    const after = await scrapeUntil('tether_connections{transport="websocket"} 0');
    expect(after).toContain('tether_connections{transport="websocket"} 0');
    expect(after).toContain('tether_subscriptions{transport="websocket"} 0');
    expect(after).toContain('tether_connections_closed_total{transport="websocket",code="1005"} 1');
  });
});
