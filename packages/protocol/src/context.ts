import type { SessionContext } from './core/session';

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

/** The context every procedure receives from the session core: the caller, and its session. */
export type Context = SessionContext<Principal>;
