import { DEFAULT_RETRY, type RetryOptions } from './backoff';

export interface KeepAliveOptions {
  /** Ping after this much time. @default 15_000 */
  intervalMs: number;
  /** Treat the connection as dead when no pong arrives this long after a ping. @default 5_000 */
  pongTimeoutMs: number;
}

/** The subset of the WebSocket constructor Tether uses; `globalThis.WebSocket` and `ws` both fit. */
export type WebSocketConstructor = new (url: string | URL, protocols?: string | string[]) => WebSocket;

export interface TetherClientOptions {
  /** The server's WebSocket endpoint, e.g. `ws://127.0.0.1:3000/trpc`. */
  url: string;
  /** Called before every connection attempt; return the current access token, or null for anonymous. */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /** Name and version sent to the server for its logs. @default 'tether-client' */
  clientName?: string;
  keepAlive?: Partial<KeepAliveOptions>;
  retry?: Partial<RetryOptions>;
  /** WebSocket implementation; defaults to `globalThis.WebSocket` (use `@tether/client/node` on Node 20). */
  WebSocket?: WebSocketConstructor;
}

export const DEFAULT_KEEP_ALIVE: KeepAliveOptions = { intervalMs: 15_000, pongTimeoutMs: 5_000 };

export interface ResolvedOptions {
  url: string;
  getToken: NonNullable<TetherClientOptions['getToken']>;
  clientName: string;
  keepAlive: KeepAliveOptions;
  retry: RetryOptions;
  WebSocket: WebSocketConstructor;
}

/** Merges defaults in one place. */
export function resolveOptions(options: TetherClientOptions): ResolvedOptions {
  const WebSocketImpl = options.WebSocket ?? (globalThis.WebSocket as WebSocketConstructor | undefined);
  if (!WebSocketImpl) {
    throw new Error('no WebSocket implementation: pass `WebSocket`, or import from "@tether/client/node"');
  }
  return {
    url: options.url,
    getToken: options.getToken ?? (() => null),
    clientName: options.clientName ?? 'tether-client',
    keepAlive: { ...DEFAULT_KEEP_ALIVE, ...options.keepAlive },
    retry: { ...DEFAULT_RETRY, ...options.retry },
    WebSocket: WebSocketImpl,
  };
}
