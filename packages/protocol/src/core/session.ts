import type { ConnectionHealth } from './connection-router';

/** How a session reached the server. */
export type Transport = 'websocket' | 'sse' | 'http';

/**
 * What a procedure may ask of the session it arrived on, whatever the
 * transport. The server's session core implements it; procedures never see a socket.
 */
export interface SessionControls {
  readonly transport: Transport;
  /** The client's address: the peer's, or the rightmost `X-Forwarded-For` hop not of a trusted proxy. */
  readonly address: string;
  /**
   * Verifies `accessToken` and makes it the session's credential. On a
   * WebSocket the connection keeps going with the new token and its expiry;
   * a signed-in connection accepts only a token of the same principal. Over
   * HTTP and SSE every request carries its own token: BAD_REQUEST.
   */
  renew(accessToken: string): Promise<{ expiresAt: Date }>;
  /** This server process's health and load. */
  health(): ConnectionHealth;
  /**
   * Ends the subscription running with `signal` (FORBIDDEN with `message`)
   * when `key` is revoked, on this process or any other sharing the bus:
   * authority that a subscription depends on (a room membership, say) ends it.
   */
  endOnRevoke(signal: AbortSignal, key: string, message: string): void;
}

/** The context the session core gives every procedure: the caller, and its session. */
export interface SessionContext<TPrincipal = unknown> {
  /** Read at call time: `connection.renew` can change it on a WebSocket connection. */
  readonly principal: TPrincipal | null;
  readonly session: SessionControls;
}
