/** What `getToken` may return: a bare token, a token with its expiry (enables renewal), or nothing. */
export type TokenResult = string | { token: string; expiresAt?: Date } | null | undefined;

/**
 * Supplies the access token. Called before every connection (and, over HTTP,
 * before every request); with `forceRefresh` after the server rejected the
 * token (4401) and before it expires, when the client renews it on the open
 * socket. Returning nothing when a refresh is forced means "cannot": the
 * client stops. Throwing (or not answering within `connectTimeoutMs`) means
 * "not now": the client tries again with backoff.
 */
export type GetToken = (context: { forceRefresh: boolean }) => TokenResult | Promise<TokenResult>;

export interface AccessToken {
  token: string;
  expiresAt: Date | null;
}

export function normalizeToken(result: TokenResult): AccessToken | null {
  if (!result) return null;
  if (typeof result === 'string') return { token: result, expiresAt: null };
  return { token: result.token, expiresAt: result.expiresAt ?? null };
}

/** When to renew a token expiring at `expiresAt`: `renewBeforeMs` early, or half its life when that is shorter. */
export function renewalDelayMs(expiresAt: Date, renewBeforeMs: number, now = Date.now()): number {
  const remaining = expiresAt.getTime() - now;
  return Math.max(0, remaining - Math.min(renewBeforeMs, remaining / 2));
}
