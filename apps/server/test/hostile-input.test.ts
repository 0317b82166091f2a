import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloseCode } from '@tether/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectionParamsMessage, openRawSocket, type RawSocket } from './helpers/raw-socket';
import { CURRENT_PROTOCOL_VERSION, clientFactory, startTestServer, type TestServer } from './helpers/test-server';

const MAX_PAYLOAD = 64 * 1024;
const HANDSHAKE_TIMEOUT_MS = 300;

let server: TestServer;
const clients = clientFactory(() => server.wsUrl);
const sockets: RawSocket[] = [];
/** A healthy client that stays connected through every test: hostile input must not disturb it. */
let bystander: ReturnType<typeof clients.connect>;

beforeAll(async () => {
  server = await startTestServer({
    allowedOrigins: ['https://chat.example'],
    limits: { maxPayloadBytes: MAX_PAYLOAD, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS },
  });
  bystander = clients.connect();
});
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  // After each attack the server still serves others.
  expect((await bystander.trpc.connection.health.query()).status).toBe('ok');
});
afterAll(async () => {
  await clients.disposeAll();
  await server.dispose();
});

async function handshaken(): Promise<RawSocket> {
  const socket = await openRawSocket(`${server.wsUrl}?connectionParams=1`);
  sockets.push(socket);
  socket.send(connectionParamsMessage({ protocolVersion: CURRENT_PROTOCOL_VERSION }));
  return socket;
}

const errorCode = (message: Record<string, unknown>) =>
  ((message.error as { json?: { data?: { code?: string } } }).json?.data?.code ?? null) as string | null;

/** Sends raw bytes to the server and returns what it answers before closing. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    let reply = '';
    socket.on('data', (chunk) => {
      reply += chunk.toString();
    });
    socket.on('close', () => resolve(reply));
    socket.on('error', reject);
  });
}

/** An HTTP request with whatever `Host` and other headers a test forges; the status, headers and body. */
function httpRequest(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

/** A WebSocket upgrade with a forged `Host`: the status line the server answers with. */
async function upgradeStatus(port: number, host: string, origin: string): Promise<string> {
  const reply = await rawRequest(
    port,
    `GET /trpc?connectionParams=1 HTTP/1.1\r\nHost: ${host}\r\nOrigin: ${origin}\r\nConnection: Upgrade\r\n` +
      'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  return reply.split('\r\n')[0] ?? '';
}

/** The tRPC error codes of an HTTP answer (one per call of a batch). */
const trpcCodes = (body: string): string[] =>
  ([JSON.parse(body)].flat() as Array<{ error: { json: { data: { code: string } } } }>).map(
    (item) => item.error.json.data.code,
  );

describe('hostile HTTP', () => {
  it('answers an unparsable request target with 400, on plain requests and upgrades alike', async () => {
    const plain = await rawRequest(server.port, 'GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(plain).toMatch(/^HTTP\/1\.1 400/);
    const upgrade = await rawRequest(
      server.port,
      'GET //[ HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    expect(upgrade).toMatch(/^HTTP\/1\.1 400/);
  });
});

describe('hostile input on the WebSocket', () => {
  it('answers malformed JSON with PARSE_ERROR and keeps the connection', async () => {
    const socket = await handshaken();
    socket.sendRaw('{"id": 1, "method": ');
    const reply = await socket.waitForMessage((m) => 'error' in m);
    expect(reply.id).toBeNull();
    expect(errorCode(reply)).toBe('PARSE_ERROR');
    socket.send({ id: 2, method: 'query', params: { path: 'connection.health', input: { json: undefined } } });
    const health = await socket.waitForMessage((m) => m.id === 2);
    expect(health).toHaveProperty('result');
  });

  it('answers an unknown method with PARSE_ERROR', async () => {
    const socket = await handshaken();
    socket.send({ id: 1, method: 'launch', params: { path: 'connection.health' } });
    expect(errorCode(await socket.waitForMessage((m) => 'error' in m))).toBe('PARSE_ERROR');
  });

  it('answers an unknown procedure with NOT_FOUND for that request id', async () => {
    const socket = await handshaken();
    socket.send({ id: 7, method: 'query', params: { path: 'rooms.destroyEverything', input: { json: null } } });
    const reply = await socket.waitForMessage((m) => m.id === 7);
    expect(errorCode(reply)).toBe('NOT_FOUND');
  });

  it('closes with 1009 a message over the payload limit', async () => {
    const socket = await handshaken();
    socket.sendRaw('x'.repeat(MAX_PAYLOAD + 1));
    expect((await socket.waitForClose()).code).toBe(CloseCode.MessageTooBig);
  });

  it('closes with 4408 a connection that sends no connectionParams in time', async () => {
    const socket = await openRawSocket(`${server.wsUrl}?connectionParams=1`);
    sockets.push(socket);
    expect((await socket.waitForClose()).code).toBe(CloseCode.HandshakeTimeout);
  });

  it('closes with 4426 a client of an unsupported protocol version', async () => {
    const socket = await openRawSocket(`${server.wsUrl}?connectionParams=1`);
    sockets.push(socket);
    socket.send(connectionParamsMessage({ protocolVersion: '999' }));
    const closed = await socket.waitForClose();
    expect(closed.code).toBe(CloseCode.UpgradeRequired);
    expect(closed.reason).toContain('upgrade');
  });

  it('closes with 4426 a client that does not announce connectionParams at all', async () => {
    const socket = await openRawSocket(server.wsUrl);
    sockets.push(socket);
    expect((await socket.waitForClose()).code).toBe(CloseCode.UpgradeRequired);
  });

  it('closes with 4400 a first message that is not connectionParams', async () => {
    const socket = await openRawSocket(`${server.wsUrl}?connectionParams=1`);
    sockets.push(socket);
    socket.send({ id: 1, method: 'query', params: { path: 'connection.health' } });
    expect((await socket.waitForClose()).code).toBe(CloseCode.BadFrames);
  });

  it('refuses an upgrade from an origin not on the allowlist with HTTP 403', async () => {
    await expect(openRawSocket(server.wsUrl, { origin: 'https://evil.example' })).rejects.toThrow('HTTP 403');
    const allowed = await openRawSocket(`${server.wsUrl}?connectionParams=1`, { origin: 'https://chat.example' });
    sockets.push(allowed);
    expect(allowed.socket.readyState).toBe(allowed.socket.OPEN);
  });
});

describe('browser origins, without a public origin configured', () => {
  it('refuses a DNS name whose Origin and Host agree (DNS rebinding), on WebSocket and HTTP', async () => {
    const host = `evil.example:${server.port}`;
    const origin = `http://${host}`;
    expect(await upgradeStatus(server.port, host, origin)).toBe('HTTP/1.1 403 Forbidden');
    const query = await httpRequest(server.port, '/trpc/connection.health', { host, origin });
    expect(query.status).toBe(403);
    expect(trpcCodes(query.body)).toEqual(['FORBIDDEN']);
    const batch = await httpRequest(
      server.port,
      '/trpc/auth.signIn,connection.health?batch=1',
      { host, origin, 'content-type': 'application/json' },
      'POST',
    );
    expect(batch.status).toBe(403);
    expect(trpcCodes(batch.body)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    const sse = await httpRequest(server.port, '/trpc/rooms.events?input=%7B%7D', {
      host,
      origin,
      accept: 'text/event-stream',
    });
    expect(sse.status).toBe(403);
    expect(trpcCodes(sse.body)).toEqual(['FORBIDDEN']);
  });

  it('lets in the page the server serves at an IP literal or localhost', async () => {
    for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`]) {
      const origin = `http://${host}`;
      expect(await upgradeStatus(server.port, host, origin)).toBe('HTTP/1.1 101 Switching Protocols');
      const query = await httpRequest(server.port, '/trpc/connection.health', { host, origin });
      expect(query.status).toBe(200);
    }
  });
});

describe('a server reached at a public origin, with a metrics token and the web app', () => {
  const PUBLIC_ORIGIN = 'https://chat.example.com';
  const METRICS_TOKEN = 'metrics-token-for-tests';
  let reached: TestServer;
  let webRoot: string;

  beforeAll(async () => {
    webRoot = await mkdtemp(join(tmpdir(), 'tether-web-'));
    await mkdir(join(webRoot, 'assets'));
    await writeFile(join(webRoot, 'index.html'), '<!doctype html><script type="module" src="/assets/app.js"></script>');
    await writeFile(join(webRoot, 'assets', 'app.js'), 'export {};');
    reached = await startTestServer({ publicOrigins: [PUBLIC_ORIGIN], metricsToken: METRICS_TOKEN, webRoot });
  });
  afterAll(async () => {
    await reached?.dispose();
    await rm(webRoot, { recursive: true, force: true });
  });

  it('lets in the public origin, whatever Host the proxy passed on, on WebSocket and HTTP', async () => {
    const host = `127.0.0.1:${reached.port}`;
    expect(await upgradeStatus(reached.port, host, PUBLIC_ORIGIN)).toBe('HTTP/1.1 101 Switching Protocols');
    const query = await httpRequest(reached.port, '/trpc/connection.health', { host, origin: PUBLIC_ORIGIN });
    expect(query.status).toBe(200);
  });

  it('refuses every other origin that agrees with the Host, loopback included', async () => {
    for (const host of [`evil.example:${reached.port}`, `127.0.0.1:${reached.port}`]) {
      expect(await upgradeStatus(reached.port, host, `http://${host}`)).toBe('HTTP/1.1 403 Forbidden');
      const query = await httpRequest(reached.port, '/trpc/connection.health', { host, origin: `http://${host}` });
      expect(query.status).toBe(403);
    }
  });

  it('serves the web app with a strict CSP and the security headers', async () => {
    for (const path of ['/', '/assets/app.js', '/rooms/anything']) {
      const { status, headers } = await httpRequest(reached.port, path);
      expect(status, path).toBe(200);
      expect(headers['content-security-policy'], path).toBe(
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' wss://chat.example.com; " +
          "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
      );
      expect(headers['x-content-type-options'], path).toBe('nosniff');
      expect(headers['x-frame-options'], path).toBe('DENY');
      expect(headers['referrer-policy'], path).toBe('same-origin');
      expect(headers['cross-origin-opener-policy'], path).toBe('same-origin');
    }
  });

  it('sends nosniff on JSON answers too', async () => {
    for (const path of ['/healthz', '/readyz', '/trpc/connection.health']) {
      const { headers } = await httpRequest(reached.port, path);
      expect(headers['content-type'], path).toContain('application/json');
      expect(headers['x-content-type-options'], path).toBe('nosniff');
    }
  });

  it('answers /metrics to the token only, from this machine too, and 404 to anyone else', async () => {
    expect((await httpRequest(reached.port, '/metrics')).status).toBe(404);
    expect((await httpRequest(reached.port, '/metrics', { authorization: 'Bearer wrong-token' })).status).toBe(404);
    const scraped = await httpRequest(reached.port, '/metrics', { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(scraped.status).toBe(200);
    expect(scraped.body).toContain('tether_');
  });
});

describe('/metrics without a token', () => {
  it('answers this machine, but not a request a proxy forwarded from elsewhere', async () => {
    expect((await httpRequest(server.port, '/metrics')).status).toBe(200);
    const forwarded = await httpRequest(server.port, '/metrics', { 'x-forwarded-for': '203.0.113.9' });
    expect(forwarded.status).toBe(404);
    expect(JSON.parse(forwarded.body)).toEqual({ error: 'not found' });
  });
});
