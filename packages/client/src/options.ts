import type { GetToken } from './access-token';
import { DEFAULT_RETRY, type RetryOptions } from './backoff';

export interface KeepAliveOptions {
  /** Checked every this long: a socket that heard nothing since the last check is pinged. @default 15_000 */
  intervalMs: number;
  /** Treat the connection as dead when no pong arrives this long after a ping. @default 5_000 */
  pongTimeoutMs: number;
}

export interface ReconnectOptions extends RetryOptions {
  /** A connection open this long resets the backoff. @default 5_000 */
  stableAfterMs: number;
  /** Extra doublings of the backoff after 1013 (overloaded) or 4429 (rate limited). @default 3 */
  slowDownAttempts: number;
  /** Give up on a connection attempt not open after this long. @default 10_000 */
  connectTimeoutMs: number;
}

export interface FallbackOptions {
  /** Fall back to HTTP at all. @default true */
  enabled: boolean;
  /** WebSocket attempts in a row ending without a word from the server (1006) before HTTP is tried. @default 3 */
  afterAttempts: number;
  /** The tRPC endpoint over HTTP. @default `url` with `ws` → `http`, `wss` → `https` */
  url: string;
  /** `fetch` implementation. @default globalThis.fetch */
  fetch: typeof globalThis.fetch;
}

export interface RequestOptions {
  /** A query or mutation fails with `RequestTimeoutError` after this long, queued time included. @default 30_000 */
  timeoutMs: number;
  /** Attempts for a query, or a mutation with an idempotencyKey, whose connection dropped mid-flight. @default 5 */
  mutationAttempts: number;
  /** Calls sent together in one WebSocket frame at most (the server's limit: `TETHER_MAX_CALLS_PER_FRAME`). @default 100 */
  maxCallsPerFrame: number;
  /** Bytes per frame at most, counted as an upper bound (the server's limit: `TETHER_MAX_PAYLOAD_BYTES`). @default 524_288 */
  maxFrameBytes: number;
}

/** The subset of the WebSocket constructor Tether uses; `globalThis.WebSocket` and `ws` both fit. */
export type WebSocketConstructor = new (url: string | URL, protocols?: string | string[]) => WebSocket;

export interface TetherClientOptions {
  /**
   * The server's WebSocket endpoint, e.g. `ws://127.0.0.1:3000/trpc`; or
   * several processes' endpoints, for a deployment without a load balancer:
   * each new socket goes to the next, so a process that is down costs one attempt.
   */
  url: string | readonly string[];
  /** The access token; see `GetToken`. Omit for an anonymous client. */
  getToken?: GetToken;
  /** Renew a token this long before it expires, on the open socket (needs `expiresAt` from getToken). @default 60_000 */
  renewBeforeMs?: number;
  /** Name and version sent to the server for its logs. @default 'tether-client' */
  clientName?: string;
  keepAlive?: Partial<KeepAliveOptions>;
  reconnect?: Partial<ReconnectOptions>;
  requests?: Partial<RequestOptions>;
  /** When WebSocket is blocked (a proxy refuses the upgrade or cuts it), go on over HTTP batches and SSE. */
  fallback?: Partial<FallbackOptions>;
  /** WebSocket implementation; defaults to `globalThis.WebSocket` (use `@tether/client/node` on Node 20). */
  WebSocket?: WebSocketConstructor;
}

export const DEFAULT_KEEP_ALIVE: KeepAliveOptions = { intervalMs: 15_000, pongTimeoutMs: 5_000 };
export const DEFAULT_RECONNECT: ReconnectOptions = {
  ...DEFAULT_RETRY,
  stableAfterMs: 5_000,
  slowDownAttempts: 3,
  connectTimeoutMs: 10_000,
};
export const DEFAULT_REQUESTS: RequestOptions = {
  timeoutMs: 30_000,
  mutationAttempts: 5,
  maxCallsPerFrame: 100,
  maxFrameBytes: 512 * 1024,
};

export interface ResolvedOptions {
  url: string | readonly string[];
  getToken: GetToken;
  renewBeforeMs: number;
  clientName: string;
  keepAlive: KeepAliveOptions;
  reconnect: ReconnectOptions;
  requests: RequestOptions;
  fallback: FallbackOptions;
  WebSocket: WebSocketConstructor;
}

/** The HTTP endpoint beside a WebSocket one: same host and path, `ws` → `http`, `wss` → `https`. */
export function httpUrlOf(url: string): string {
  return url.replace(/^ws(s?):/i, 'http$1:');
}

/** Merges defaults in one place. */
export function resolveOptions(options: TetherClientOptions): ResolvedOptions {
  const WebSocketImpl = options.WebSocket ?? (globalThis.WebSocket as WebSocketConstructor | undefined);
  if (!WebSocketImpl) {
    throw new Error('no WebSocket implementation: pass `WebSocket`, or import from "@tether/client/node"');
  }
  const endpoints = typeof options.url === 'string' ? [options.url] : options.url;
  const first = endpoints[0];
  if (first === undefined) throw new Error('url: at least one WebSocket endpoint');
  return {
    url: options.url,
    getToken: options.getToken ?? (() => null),
    renewBeforeMs: options.renewBeforeMs ?? 60_000,
    clientName: options.clientName ?? 'tether-client',
    keepAlive: { ...DEFAULT_KEEP_ALIVE, ...options.keepAlive },
    reconnect: { ...DEFAULT_RECONNECT, ...options.reconnect },
    requests: { ...DEFAULT_REQUESTS, ...options.requests },
    fallback: {
      enabled: true,
      afterAttempts: 3,
      url: httpUrlOf(first),
      fetch: (input, init) => globalThis.fetch(input, init),
      ...options.fallback,
    },
    WebSocket: WebSocketImpl,
  };
}
