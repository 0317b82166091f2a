/** What a service token may do; people may do all of it. */
export const SCOPES = ['messages:read', 'messages:send'] as const;
export type Scope = (typeof SCOPES)[number];

/** A person, signed in with an access token. */
export interface UserPrincipal {
  kind: 'user';
  userId: string;
  username: string;
}

/**
 * An internal service, with a service token: it acts as its own bot identity
 * (`userId`, `username`), only within its scopes and, if any are listed, its rooms.
 * It is never a user session.
 */
export interface ServicePrincipal {
  kind: 'service';
  userId: string;
  username: string;
  tokenId: string;
  scopes: Scope[];
  /** Empty: any room its bot identity belongs to. */
  roomIds: string[];
}

/** Who is calling. Established from the token by the server. */
export type Principal = UserPrincipal | ServicePrincipal;

/**
 * A mutation's once-only scope, derived by the router from the caller, the
 * procedure's path and its input: a repeat of the same key by the same
 * principal gets the first result, and the same key with another request is refused.
 */
export interface IdempotencyScope {
  principalId: string;
  /** The procedure path, e.g. `messages.send`. */
  path: string;
  key: string;
  /** The parsed input, compared with the first request's. */
  input: unknown;
}

/** What a procedure may ask of the WebSocket connection it arrived on. */
export interface ConnectionControls {
  /**
   * Verifies `accessToken` and makes it the connection's credential without
   * dropping the socket; the connection is closed with 4401 when it expires.
   * A signed-in connection accepts only a token of the same user.
   */
  renew(accessToken: string): Promise<{ principal: Principal; expiresAt: Date }>;
  /**
   * Counts a new subscription until `signal` aborts or the returned release is
   * called (when it fails to start); throws TOO_MANY_REQUESTS over the per-connection limit.
   */
  admitSubscription(signal: AbortSignal): () => void;
}

/** The context every procedure receives; the server builds it per connection or HTTP request. */
export interface Context {
  /** Read at call time: `auth.renew` can change it on a WebSocket connection. */
  readonly principal: Principal | null;
  /** The WebSocket connection; null over HTTP, where every request carries its own token. */
  readonly connection: ConnectionControls | null;
}
