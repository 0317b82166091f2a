import type { IncomingMessage, ServerResponse } from 'node:http';
import { CloseCode, RetryLaterError, retryAfterSeconds, retryLater, tooManyRequests } from '@tether/protocol';
import { type AnyTRPCRouter, TRPCError } from '@trpc/server';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import type { Limits } from '../limits';
import type { TransportMetrics } from '../observability/metrics';
import { type Authenticate, unauthorized } from '../session/credential';
import type { SessionRegistry } from '../session/registry';
import { Session, type SessionPort } from '../session/session';
import { BucketsByKey } from '../session/token-bucket';
import { sendTrpcError } from './http-errors';
import { isOriginAllowed, type OriginPolicy } from './origin';
import { lastEventIdOf, SseConnection } from './sse-connection';
import { refuseSse, sessionEnd } from './sse-wire';

export interface TrpcHttpOptions {
  router: AnyTRPCRouter;
  sessions: SessionRegistry<unknown>;
  authenticate: Authenticate<unknown>;
  limits: Limits;
  metrics: TransportMetrics;
  onCallError(error: TRPCError, path: string | undefined, type: string): void;
  onLimit(session: Session<unknown> | null, code: CloseCode): void;
  /** Which browser origins may call, as on the WebSocket. */
  origins: OriginPolicy;
  /** A request refused for its `Origin` (for logging). */
  onOriginRefused(req: IncomingMessage): void;
  /** Calls the app would refuse for now whatever their input (see `SessionCoreOptions.refuseForNow`). */
  refuseForNow?(path: string): RetryLaterError | null;
  /** A request refused at the door (for counting). */
  onRefusedForNow?(): void;
}

/** A plain HTTP request's session: never registered, it lives as long as the request. */
const REQUEST_PORT: SessionPort = {
  end() {},
  bufferedBytes: 0,
  bytesSent: 0,
  drained: () => Promise.resolve(),
  ping() {},
};

/** `Authorization: Bearer <token>`; null without the header. */
function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) throw unauthorized(new Error('Authorization header must be "Bearer <token>"'));
  return match[1];
}

/**
 * The procedure path(s) of a request under `/trpc/`, as tRPC's own handler
 * reads them (slashes trimmed, then decoded); null when they do not decode.
 */
function procedurePath(url: URL): string | null {
  try {
    return decodeURIComponent(url.pathname.slice('/trpc/'.length).replace(/^\/+|\/+$/g, ''));
  } catch {
    return null;
  }
}

/**
 * tRPC over HTTP on `/trpc/`: batches through tRPC's own handler, every
 * subscription through the session core's SSE stream. Before either, calls
 * are counted from the request's paths (not its bytes) against the
 * per-address rate and the per-batch limit; once its token is verified, against its principal's rate too.
 */
export function createTrpcHttp(options: TrpcHttpOptions) {
  const { router, sessions, authenticate, limits, metrics } = options;
  const { transformer } = router._def._config;
  /** Calls by address and by principal: the same rate for both. */
  const buckets = new BucketsByKey({ ratePerSecond: limits.httpCallsPerSecond, burst: limits.httpCallBurst });
  /** The calls of one HTTP request that failed, so the rest count as successes. */
  const failedCalls = new WeakMap<object, Set<string>>();
  const failedPaths = (ctx: object) => {
    let failed = failedCalls.get(ctx);
    if (!failed) {
      failed = new Set();
      failedCalls.set(ctx, failed);
    }
    return failed;
  };
  let draining = false;
  /** Each request's client address, as `handle` was told it, for the session its calls run in. */
  const addresses = new WeakMap<IncomingMessage, string>();

  const handler = createHTTPHandler({
    router,
    basePath: '/trpc/',
    maxBodySize: limits.maxPayloadBytes,
    async createContext({ req, info }) {
      // Every subscription is the session core's SSE stream (`handle` routes them); tRPC's own never serves one.
      if (info.type === 'subscription' || info.calls.some((call) => call.procedure?._def.type === 'subscription')) {
        throw new TRPCError({
          code: 'METHOD_NOT_SUPPORTED',
          message: 'subscribe with GET /trpc/<path> (SSE) or over WebSocket',
        });
      }
      const session = new Session<unknown>(sessions, 'http', addresses.get(req) ?? 'unknown', REQUEST_PORT);
      const token = bearerToken(req);
      if (token) {
        let credential: Awaited<ReturnType<typeof authenticate>>;
        try {
          credential = await authenticate(token);
        } catch (error) {
          const refusal = unauthorized(error);
          // As an SSE stream or a WebSocket (4401): the client knows to refresh its token and send again.
          throw refusal.code === 'UNAUTHORIZED' ? sessionEnd(CloseCode.Unauthorized, refusal.message) : refusal;
        }
        // A principal's calls from many addresses (a botnet sharing one token) count together too.
        const calls = Math.max(1, info.calls.length);
        if (!takeCalls(`principal:${credential.principalKey}`, calls)) {
          metrics.limitExceeded('http_rate_principal');
          throw tooManyCalls('request rate limit of this user exceeded', calls);
        }
        session.setCredential(credential);
      }
      return session.context;
    },
    onError: ({ error, path, type, ctx }) => {
      if (error.code === 'PAYLOAD_TOO_LARGE') metrics.limitExceeded('payload');
      if (path) {
        metrics.call('http', path, error.code);
        if (ctx) failedPaths(ctx).add(path);
      }
      options.onCallError(error, path, type);
    },
    responseMeta: ({ paths, ctx, errors }) => {
      const failed = ctx ? failedCalls.get(ctx) : undefined;
      for (const path of paths ?? []) if (!failed?.has(path)) metrics.call('http', path, 'ok');
      // A call refused for now (a rate limit) says when to come back, as HTTP does.
      const retryAfterMs = Math.max(
        0,
        ...errors.map((error) => (error.cause instanceof RetryLaterError ? error.cause.retryAfterMs : 0)),
      );
      return retryAfterMs > 0 ? { headers: { 'retry-after': String(retryAfterSeconds(retryAfterMs)) } } : {};
    },
  });

  const takeCalls = (key: string, calls: number): boolean => buckets.of(key).take(calls);

  /** TOO_MANY_REQUESTS for `calls` over the HTTP rate, saying when they would fit. */
  const tooManyCalls = (what: string, calls: number) =>
    tooManyRequests(retryLater(what, (calls / limits.httpCallsPerSecond) * 1000));

  async function serveSubscription(req: IncomingMessage, res: ServerResponse, url: URL, path: string, address: string) {
    let input: unknown;
    let token: string | null;
    try {
      token = bearerToken(req);
      const raw = url.searchParams.get('input');
      input = raw === null ? undefined : transformer.input.deserialize(JSON.parse(raw));
    } catch (cause) {
      const error = cause instanceof TRPCError ? cause : new TRPCError({ code: 'PARSE_ERROR', cause });
      return refuseSse(res, router, error, path);
    }
    const lastEventId = lastEventIdOf(req, url);
    if (lastEventId !== null) {
      input = typeof input === 'object' && input !== null ? { ...input, lastEventId } : (input ?? { lastEventId });
    }
    const connection = new SseConnection(options, res, lastEventId);
    const opened = sessions.open('sse', address, connection);
    if ('code' in opened) {
      options.onLimit(null, opened.code);
      const error = new TRPCError({ code: 'TOO_MANY_REQUESTS', message: opened.reason });
      return refuseSse(res, router, error, path, opened.code);
    }
    connection.session = opened;
    await connection.serve(path, input, token);
  }

  return {
    handle(req: IncomingMessage, res: ServerResponse, url: URL, address: string) {
      const path = procedurePath(url);
      const batch = url.searchParams.get('batch') === '1';
      if (path === null) {
        const error = new TRPCError({ code: 'BAD_REQUEST', message: 'the procedure path is not valid URL encoding' });
        return sendTrpcError(res, router, error, { count: 1, batch: false });
      }
      const paths = batch ? path.split(',') : [path];
      // A refusal is answered per call only for a batch within the limit: what costs more is refused once.
      const refusals = { count: paths.length > limits.maxCallsPerFrame ? 1 : paths.length, batch };
      // What a page of another site (or a rebound DNS name) sends is refused as its WebSocket would be.
      if (!isOriginAllowed(req, options.origins)) {
        options.onOriginRefused(req);
        const error = new TRPCError({ code: 'FORBIDDEN', message: 'requests from this origin are not allowed' });
        return sendTrpcError(res, router, error, refusals);
      }
      if (draining) {
        // closeCode 1012, as a WebSocket would close: a client tells a restart from a procedure's own failure.
        const error = sessionEnd(CloseCode.ServiceRestart, 'server restarting: retry shortly');
        return sendTrpcError(res, router, error, refusals, { 'retry-after': '1' });
      }
      if (!takeCalls(`address:${address}`, paths.length)) {
        metrics.limitExceeded('http_rate');
        return sendTrpcError(res, router, tooManyCalls('request rate limit exceeded', paths.length), refusals);
      }
      if (paths.length > limits.maxCallsPerFrame) {
        metrics.limitExceeded('batch_size');
        const error = new TRPCError({
          code: 'BAD_REQUEST',
          message: `at most ${limits.maxCallsPerFrame} calls per batch`,
        });
        return sendTrpcError(res, router, error, refusals);
      }
      // Refused at the door, for the price of no parsing: what the app would refuse anyway (a full queue).
      // Only when every call would be: a batch mixing in others goes on, and the procedures refuse their own.
      const laters = options.refuseForNow ? paths.map(options.refuseForNow) : [];
      const later = laters.length > 0 && laters.every((refusal) => refusal !== null) ? laters[0] : null;
      if (later) {
        options.onRefusedForNow?.();
        return sendTrpcError(res, router, tooManyRequests(later), refusals);
      }
      const procedure = router._def.procedures[path] as { _def?: { type?: string } } | undefined;
      if (!batch && req.method === 'GET' && procedure?._def?.type === 'subscription') {
        serveSubscription(req, res, url, path, address).catch((error: unknown) => {
          options.onCallError(new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: error }), path, 'subscription');
          if (!res.headersSent) res.writeHead(500).end();
          else res.end();
        });
        return;
      }
      metrics.bytesIn('http', Number(req.headers['content-length'] ?? 0));
      addresses.set(req, address);
      handler(req, res);
    },
    /** Refuses new calls and streams from now on (shutdown). */
    drain(): void {
      draining = true;
    },
    /** Forgets the rates of callers whose allowance is whole again. */
    sweep(): void {
      buckets.sweep();
    },
  };
}
