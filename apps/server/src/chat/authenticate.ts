import type { Scope } from '@tether/protocol';
import type { Credential, Store } from '@tether/server-core';
import type { AccessTokens } from './access-tokens';
import { hashServiceToken, isServiceToken, SERVICE_TOKEN_EXPIRY } from './service-tokens';

/** Access tokens (people) and service tokens (internal services) both open a session; nothing else does. */
export function createAuthenticator(options: { accessTokens: AccessTokens; store: Store }) {
  const { accessTokens, store } = options;
  return async (token: string): Promise<Credential> => {
    if (!isServiceToken(token)) return accessTokens.verify(token);
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
      expiresAt: SERVICE_TOKEN_EXPIRY,
    };
  };
}
