import type { Principal, Scope } from '@tether/protocol';
import type { Credential, Store } from '@tether/server-core';
import type { AccessTokens } from './access-tokens';
import { signInRevocationKey } from './auth-service';
import { hashServiceToken, isServiceToken, serviceTokenRevocationKey } from './service-tokens';

/** Service tokens never expire; open sessions holding one verify it again this often. */
export const DEFAULT_SERVICE_TOKEN_RECHECK_MS = 60_000;
/** How long a sign-in found alive is trusted before the store is asked again. */
const SIGN_IN_ALIVE_MS = 10_000;
/** Beyond this many remembered sign-ins the memory starts over (each is one short string). */
const SIGN_IN_CACHE_MAX = 100_000;

export interface Authenticator {
  (token: string): Promise<Credential<Principal>>;
  /** Forgets what it knows of a revoked key, so a signed-out sign-in's token is refused at once. */
  forget(key: string): void;
}

/**
 * Access tokens (people) and service tokens (internal services) both open a
 * session; nothing else does. An access token is refused once its sign-in has
 * ended (sign-out, a reused refresh token), not only once it expires.
 */
export function createAuthenticator(options: {
  accessTokens: AccessTokens;
  store: Store;
  serviceTokenRecheckMs?: number;
}): Authenticator {
  const { accessTokens, store, serviceTokenRecheckMs = DEFAULT_SERVICE_TOKEN_RECHECK_MS } = options;
  /** Sign-ins found alive, by revocation key, with when. */
  const aliveSignIns = new Map<string, number>();
  /** When each key was last forgotten: a check under way then may have read the sign-in before it ended. */
  const forgottenAt = new Map<string, number>();

  async function signInAlive(signInId: string): Promise<boolean> {
    const key = signInRevocationKey(signInId);
    const checkedAt = aliveSignIns.get(key);
    if (checkedAt !== undefined && performance.now() - checkedAt < SIGN_IN_ALIVE_MS) return true;
    const startedAt = performance.now();
    const [row] = await store.query(
      'SELECT 1 FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NULL LIMIT 1',
      [signInId],
    );
    if (!row || (forgottenAt.get(key) ?? -1) >= startedAt) return false;
    if (aliveSignIns.size >= SIGN_IN_CACHE_MAX) aliveSignIns.clear();
    aliveSignIns.set(key, performance.now());
    return true;
  }

  async function serviceToken(token: string): Promise<Credential<Principal>> {
    const [row] = await store.query<{
      id: string;
      bot_user_id: string;
      username: string;
      scopes: Scope[];
      room_ids: string[];
    }>(
      `SELECT t.id, t.bot_user_id, u.username, t.scopes, t.room_ids
       FROM service_tokens t JOIN users u ON u.id = t.bot_user_id
       WHERE t.token_hash = $1 AND t.revoked_at IS NULL`,
      [hashServiceToken(token)],
    );
    if (!row) throw new Error('service token unknown or revoked');
    return {
      principal: {
        kind: 'service',
        userId: row.bot_user_id,
        username: row.username,
        tokenId: row.id,
        scopes: row.scopes,
        roomIds: row.room_ids,
      },
      principalKey: row.bot_user_id,
      // Service tokens do not expire: a revocation ends them at once, and the re-check is the safety net.
      expiresAt: new Date(8.64e15),
      recheckAt: new Date(Date.now() + serviceTokenRecheckMs),
      revocationKeys: [serviceTokenRevocationKey(row.id)],
    };
  }

  const authenticate = async (token: string): Promise<Credential<Principal>> => {
    if (isServiceToken(token)) return serviceToken(token);
    const claims = await accessTokens.verify(token);
    if (!(await signInAlive(claims.signInId))) throw new Error('this sign-in has ended: sign in again');
    return {
      principal: claims.principal,
      principalKey: claims.principal.userId,
      expiresAt: claims.expiresAt,
      revocationKeys: [signInRevocationKey(claims.signInId)],
    };
  };
  const forget = (key: string) => {
    aliveSignIns.delete(key);
    if (forgottenAt.size >= SIGN_IN_CACHE_MAX) forgottenAt.clear();
    forgottenAt.set(key, performance.now());
  };
  return Object.assign(authenticate, { forget });
}
