import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type AppRouter, CloseCode, FORBIDDEN_ORIGIN_HTTP_STATUS, type ParsedConnectionParams } from '@tether/protocol';
import { getWSConnectionHandler } from '@trpc/server/adapters/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Heartbeat, Limits } from '../limits';
import type { Logger } from '../logger';
import { closeHard } from './close-hard';
import { guardConnection } from './connection-guards';
import type { Authenticate } from './context';
import { readHandshake } from './handshake';
import { isOriginAllowed } from './origin';
import { createProcedureErrorLog } from './procedure-errors';
import { requestUrl } from './request-url';
import { openWebSocketSession } from './websocket-session';

export interface WebSocketTransportOptions {
  router: AppRouter;
  authenticate: Authenticate;
  config: { allowedOrigins: readonly string[]; limits: Limits; heartbeat: Heartbeat };
  logger: Logger;
}

export interface WebSocketTransport {
  /** The `upgrade` listener for the HTTP server. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  readonly connectionCount: number;
  /** Bytes queued for clients and not yet sent, summed over connections. */
  readonly sendBufferBytes: number;
  /** Reconnect notice, `drainMs` for in-flight work, then close 1012 for whoever is left. */
  shutdown(drainMs: number): Promise<void>;
}

/** How long peers get to answer the 1012 close frame on shutdown. */
const CLOSE_HANDSHAKE_GRACE_MS = 2_000;

/** Answers an upgrade with a plain HTTP status and no socket. */
function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * tRPC over `ws` on `/trpc`, with the design's rules: origin allowlist (403),
 * payload limit (1009), connection limit (1013), connectionParams required
 * (4426 without, 4400 malformed, 4408 when late), token checks and expiry
 * (4401), message rate (4429), send-buffer cap (4508), heartbeat.
 */
export function createWebSocketTransport(options: WebSocketTransportOptions): WebSocketTransport {
  const { router, authenticate, config, logger } = options;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.limits.maxPayloadBytes,
    perMessageDeflate: false,
  });
  const handshakes = new WeakMap<WebSocket, ParsedConnectionParams>();
  let accepting = true;

  const serveTrpc = getWSConnectionHandler({
    router,
    wss,
    keepAlive: { enabled: true, pingMs: config.heartbeat.pingAfterMs, pongWaitMs: config.heartbeat.terminateAfterMs },
    createContext: ({ res }) =>
      openWebSocketSession({
        socket: res,
        params: handshakes.get(res),
        authenticate,
        maxSubscriptions: config.limits.maxSubscriptionsPerConnection,
      }),
    onError: createProcedureErrorLog(logger, 'ws'),
  });

  function onConnection(socket: WebSocket, req: IncomingMessage): void {
    const openedAt = Date.now();
    const remote = req.socket.remoteAddress;
    socket.on('error', (error) => logger.warn('ws.error', { remote, message: error.message }));
    socket.once('close', (code, reason) => {
      const params = handshakes.get(socket);
      logger.info('ws.close', {
        remote,
        client: params?.client,
        code,
        reason: reason.toString(),
        durationMs: Date.now() - openedAt,
      });
    });
    logger.info('ws.open', { remote });

    if (wss.clients.size > config.limits.maxConnections) {
      closeHard(socket, CloseCode.TryAgainLater, 'server at its connection limit; retry later');
      return;
    }
    if (requestUrl(req)?.searchParams.get('connectionParams') !== '1') {
      closeHard(
        socket,
        CloseCode.UpgradeRequired,
        'send connectionParams with protocolVersion first (tRPC connectionParams)',
      );
      return;
    }
    const timeout = setTimeout(
      () => closeHard(socket, CloseCode.HandshakeTimeout, 'no connectionParams within the handshake timeout'),
      config.limits.handshakeTimeoutMs,
    );
    socket.once('close', () => clearTimeout(timeout));
    // Registered before tRPC's own listener, so the handshake is judged before tRPC reads it.
    socket.once('message', (data) => {
      clearTimeout(timeout);
      const handshake = readHandshake(data);
      if (handshake.ok) handshakes.set(socket, handshake.params);
      else closeHard(socket, handshake.code, handshake.reason);
    });
    guardConnection(socket, config.limits, (code) =>
      logger.warn('ws.limit_exceeded', {
        remote,
        client: handshakes.get(socket)?.client,
        code,
        bufferedBytes: socket.bufferedAmount,
      }),
    );
    serveTrpc(socket, req);
  }

  return {
    handleUpgrade(req, socket, head) {
      socket.on('error', () => socket.destroy());
      const url = requestUrl(req);
      if (!url) return refuseUpgrade(socket, 400, 'Bad Request');
      if (url.pathname !== '/trpc') return refuseUpgrade(socket, 404, 'Not Found');
      if (!isOriginAllowed(req, config.allowedOrigins)) {
        logger.warn('ws.origin_refused', { origin: req.headers.origin, remote: req.socket.remoteAddress });
        return refuseUpgrade(socket, FORBIDDEN_ORIGIN_HTTP_STATUS, 'Forbidden');
      }
      if (!accepting) return refuseUpgrade(socket, 503, 'Service Unavailable');
      wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req));
    },
    get connectionCount() {
      return wss.clients.size;
    },
    get sendBufferBytes() {
      let total = 0;
      for (const socket of wss.clients) total += socket.bufferedAmount;
      return total;
    },
    async shutdown(drainMs) {
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
