import { connect } from 'node:net';
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
