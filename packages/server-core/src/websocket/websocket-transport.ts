import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, FORBIDDEN_ORIGIN_HTTP_STATUS } from '@tether/protocol';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { clientAddress } from '../http/client-address';
import { isOriginAllowed, type OriginPolicy } from '../http/origin';
import { requestUrl } from '../http/request-url';
import type { Logger } from '../logger';
import type { TransportDeps } from '../session/transport-deps';
import { closeHard } from './close-hard';
import { WebSocketConnection } from './websocket-connection';

export interface WebSocketTransportOptions extends TransportDeps {
  origins: OriginPolicy;
  /** An upgrade refused for its `Origin` (for logging). */
  onOriginRefused(req: IncomingMessage): void;
  trustedProxies: readonly string[];
  logger: Logger;
}

/** How long peers get to answer the 1012 close frame on shutdown. */
const CLOSE_HANDSHAKE_GRACE_MS = 2_000;

/**
 * A module-level listener, not a closure: a closure here would share its scope
 * with the upgrade callback's and keep the upgrade request (headers and all)
 * alive for as long as the socket lives.
 */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** Answers an upgrade with a plain HTTP status and no socket. */
function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * The WebSocket adapter of the session core, on `/trpc`: origin check
 * (403), payload limit (1009), connectionParams required (4426 without, 4400
 * malformed, 4408 late), then one `WebSocketConnection` per client.
 */
export function createWebSocketTransport(options: WebSocketTransportOptions) {
  const { sessions, limits, logger } = options;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxPayloadBytes,
    perMessageDeflate: false,
    // Tether answers tRPC's text PING itself; ws's own protocol pings are not used.
    autoPong: true,
  });

  let accepting = true;

  // One listener of each kind for every socket, finding its connection here: a closure per socket costs more.
  const connections = new WeakMap<WebSocket, WebSocketConnection>();
  function onSocketError(this: WebSocket, error: Error): void {
    logger.debug('ws.error', { address: connections.get(this)?.address, message: error.message });
  }
  function onSocketMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
    connections.get(this)?.receive(data, isBinary);
  }
  function onSocketClose(this: WebSocket, code: number): void {
    const connection = connections.get(this);
    if (!connection) return;
    if (code === CloseCode.MessageTooBig) options.metrics.limitExceeded('payload');
    sessions.close(connection.session, connection.closedWith ?? code);
  }

  function onConnection(socket: WebSocket, raw: Duplex, req: IncomingMessage, address: string): void {
    socket.on('error', onSocketError);
    const connection = new WebSocketConnection(options, socket, raw, address);
    // Before admission, so that even a refused socket's errors are logged with its address.
    connections.set(socket, connection);
    const opened = sessions.open('websocket', address, connection);
    if ('code' in opened) {
      options.onLimit(null, opened.code);
      closeHard(socket, opened.code, opened.reason);
      return;
    }
    connection.session = opened;
    socket.on('message', onSocketMessage);
    socket.on('close', onSocketClose);
    if (requestUrl(req)?.searchParams.get('connectionParams') !== '1') {
      closeHard(
        socket,
        CloseCode.UpgradeRequired,
        'send connectionParams with protocolVersion first (tRPC connectionParams)',
      );
    }
  }

  return {
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      socket.on('error', destroyOnError);
      const url = requestUrl(req);
      if (!url) return refuseUpgrade(socket, 400, 'Bad Request');
      if (url.pathname !== '/trpc') return refuseUpgrade(socket, 404, 'Not Found');
      if (!isOriginAllowed(req, options.origins)) {
        options.onOriginRefused(req);
        return refuseUpgrade(socket, FORBIDDEN_ORIGIN_HTTP_STATUS, 'Forbidden');
      }
      if (!accepting) return refuseUpgrade(socket, 503, 'Service Unavailable');
      const address = clientAddress(req, options.trustedProxies);
      wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, socket, req, address));
    },
    /** Reconnect notice, `drainMs` for in-flight work, then close 1012 for whoever is left. */
    async shutdown(drainMs: number): Promise<void> {
      accepting = false;
      const notice = JSON.stringify({ id: null, method: 'reconnect' });
      for (const socket of wss.clients) socket.send(notice);
      if (wss.clients.size > 0 && drainMs > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));
      const closed = [...wss.clients].map(
        (socket) =>
          new Promise((resolve) => socket.once('close', resolve).close(CloseCode.ServiceRestart, 'server restarting')),
      );
      // A peer that never answers the close frame must not hold shutdown for ws's 30 s close timeout.
      const unanswered = setTimeout(() => {
        for (const socket of wss.clients) socket.terminate();
      }, CLOSE_HANDSHAKE_GRACE_MS);
      await Promise.all(closed);
      clearTimeout(unanswered);
      await new Promise((resolve) => wss.close(resolve));
    },
  };
}
