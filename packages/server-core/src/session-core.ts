import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  CloseCode,
  type ConnectionHealth,
  type RetryLaterError,
  type WithConnectionRouter,
  withConnectionRouter,
} from '@tether/protocol';
import type { AnyTRPCRouter } from '@trpc/server';
import { clientAddress } from './http/client-address';
import { originPolicy } from './http/origin';
import { createTrpcHttp } from './http/trpc-http';
import { DEFAULT_HEARTBEAT, DEFAULT_LIMITS, type Heartbeat, type Limits } from './limits';
import { errorMessage, type Logger, throttledWarning } from './logger';
import { noopMetrics, type TransportMetrics } from './observability/metrics';
import type { Roster } from './roster/roster';
import type { Authenticate } from './session/credential';
import { createProcedureErrorLog } from './session/procedure-errors';
import { SessionRegistry } from './session/registry';
import type { Revocations } from './session/revocations';
import type { Session } from './session/session';
import { SharedPrincipalLoads } from './session/shared-principal-loads';
import { createWebSocketTransport } from './websocket/websocket-transport';

export interface SessionCoreOptions<TRouter extends AnyTRPCRouter, TPrincipal> {
  /** The app's procedures; the core serves them with the `connection` router merged in. */
  router: TRouter;
  authenticate: Authenticate<TPrincipal>;
  /**
   * Where revocations are made and heard: `createRevocationLog` where
   * processes share a store (durable), `busRevocations` otherwise.
   */
  revocations: Revocations;
  /**
   * Where the processes serving one deployment tell each other what each
   * principal holds, so the per-principal connection and subscription caps
   * count over all of them. Without it (or while it fails) they count per process.
   */
  roster?: Roster;
  /** The app's version, in `connection.health`. */
  version: string;
  logger: Logger;
  metrics?: TransportMetrics;
  limits?: Partial<Limits>;
  heartbeat?: Partial<Heartbeat>;
  /** Browser origins allowed in (WebSocket, and HTTP requests with an `Origin`), besides the server's own (`*`: any). */
  allowedOrigins?: readonly string[];
  /**
   * The origins the server is reached at (`https://chat.example.com`). When
   * given, they alone are the server's own origin; without them, a browser's
   * `Origin` equal to its `Host` is, under an IP literal or `localhost` only.
   */
  publicOrigins?: readonly string[];
  /** Peers whose `X-Forwarded-For` names the client (a load balancer's addresses). */
  trustedProxies?: readonly string[];
  /**
   * Calls to refuse for now whatever their input (a procedure whose queue is
   * full), asked before an HTTP request is parsed: a flood of them then costs
   * next to nothing. The procedure must refuse by itself as well; this only
   * makes the refusal cheap.
   */
  refuseForNow?(path: string): RetryLaterError | null;
  /** Told of each HTTP request `refuseForNow` refused (for counting). */
  onRefusedForNow?(): void;
}

export interface SessionCore<TRouter extends AnyTRPCRouter> {
  /** What is served: the app's router and `connection.*`. */
  readonly router: WithConnectionRouter<TRouter>;
  /** The HTTP server's `upgrade` listener. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Serves a request under `/trpc/` (batches and SSE subscriptions). */
  handleTrpc(req: IncomingMessage, res: ServerResponse, url: URL): void;
  /**
   * Ends, on every process sharing the bus, each session whose credential
   * holds `key` (close 4401) and each subscription bound to it (FORBIDDEN), telling them `message`.
   */
  revoke(key: string, message: string): Promise<void>;
  /** Called with every revoked key, from any process (for caches of what the key stood for). */
  onRevoked(listener: (key: string) => void): () => void;
  health(): ConnectionHealth;
  /** Reconnect notice, `drainMs` for in-flight work, then every session ends with 1012. */
  shutdown(drainMs: number): Promise<void>;
}

/**
 * Calls are counted by procedure, and only procedures the router has get a
 * label of their own: a client naming made-up paths must not crowd them out.
 */
function labelKnownPaths(metrics: TransportMetrics, router: AnyTRPCRouter): TransportMetrics {
  const labelled: TransportMetrics = Object.create(metrics);
  labelled.call = (transport, path, outcome) =>
    metrics.call(transport, Object.hasOwn(router._def.procedures, path) ? path : 'unknown', outcome);
  return labelled;
}

/** The session core: one registry of sessions, a WebSocket and an HTTP/SSE adapter over it, one clock. */
export function createSessionCore<TRouter extends AnyTRPCRouter, TPrincipal>(
  options: SessionCoreOptions<TRouter, TPrincipal>,
): SessionCore<TRouter> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const heartbeat = { ...DEFAULT_HEARTBEAT, ...options.heartbeat };
  const { logger, revocations } = options;
  const router = withConnectionRouter(options.router);
  const metrics = labelKnownPaths(options.metrics ?? noopMetrics, router);
  // While Redis is away every sign-in and subscription would say so.
  const loadsUnavailable = throttledWarning(logger, 'principal_loads.unavailable', 5_000);
  const sessions = new SessionRegistry<unknown>({
    authenticate: options.authenticate,
    limits,
    heartbeat,
    metrics,
    logger,
    version: options.version,
    sharedLoads:
      options.roster &&
      new SharedPrincipalLoads({
        roster: options.roster,
        onError: (error) => loadsUnavailable(() => ({ message: errorMessage(error) })),
      }),
  });
  const errorLogs = {
    websocket: createProcedureErrorLog(logger, 'websocket'),
    sse: createProcedureErrorLog(logger, 'sse'),
    http: createProcedureErrorLog(logger, 'http'),
  };
  const onLimit = (session: Session<unknown> | null, code: CloseCode) =>
    logger.warn('session.limit_exceeded', {
      transport: session?.transport,
      address: session?.address,
      code,
      bufferedBytes: session?.port.bufferedBytes,
    });
  const shared = { router: router as AnyTRPCRouter, sessions, limits, metrics, onLimit };
  const trustedProxies = options.trustedProxies ?? [];
  const origins = originPolicy(options.allowedOrigins, options.publicOrigins);
  // A hostile page may send refused requests as fast as it likes: a line every 5 s per transport says it is happening.
  const originRefused = (event: string) => {
    const warn = throttledWarning(logger, event, 5_000);
    return (req: IncomingMessage) => warn(() => ({ origin: req.headers.origin, remote: req.socket.remoteAddress }));
  };
  const websocket = createWebSocketTransport({
    ...shared,
    origins,
    onOriginRefused: originRefused('ws.origin_refused'),
    trustedProxies,
    logger,
    onCallError: (error, path, type) => errorLogs.websocket({ error, path, type }),
  });
  const http = createTrpcHttp({
    ...shared,
    origins,
    onOriginRefused: originRefused('http.origin_refused'),
    refuseForNow: options.refuseForNow,
    onRefusedForNow: options.onRefusedForNow,
    authenticate: options.authenticate as Authenticate<unknown>,
    onCallError: (error, path, type) => errorLogs[type === 'subscription' ? 'sse' : 'http']({ error, path, type }),
  });

  const revokedListeners = new Set<(key: string) => void>();
  const stopFollowing = revocations.follow(({ key, message }) => {
    sessions.revokeLocally(key, message);
    for (const listener of revokedListeners) listener(key);
  });

  const tickMs = Math.min(1_000, Math.max(10, Math.min(heartbeat.pingAfterMs, heartbeat.terminateAfterMs) / 4));
  const clock = setInterval(() => {
    const now = performance.now();
    sessions.sweep(now);
    http.sweep();
  }, tickMs).unref();

  return {
    router,
    handleUpgrade: websocket.handleUpgrade,
    handleTrpc(req, res, url) {
      http.handle(req, res, url, clientAddress(req, trustedProxies));
    },
    revoke: (key, message) => revocations.revoke(key, message),
    onRevoked(listener) {
      revokedListeners.add(listener);
      return () => revokedListeners.delete(listener);
    },
    health: () => sessions.health(),
    async shutdown(drainMs) {
      http.drain();
      for (const session of sessions.sessions) {
        if (session.transport === 'sse') session.port.end(CloseCode.ServiceRestart, 'server restarting: reconnect');
      }
      await websocket.shutdown(drainMs);
      clearInterval(clock);
      stopFollowing();
    },
  };
}
