import { randomUUID } from 'node:crypto';
import type { Scope, Services, ServiceToken, UserPrincipal } from '@tether/protocol';
import type { GroupCommit, Queryable, RevocationLog, Store } from '@tether/server-core';
import { isUniqueViolation } from '@tether/server-core';
import { TRPCError } from '@trpc/server';
import { READABLE_BY_USER_1 } from './room-access';
import type { RoomEventLog } from './room-events';
import { hashServiceToken, newServiceToken, serviceTokenRevocationKey } from './service-tokens';

interface TokenRow {
  id: string;
  name: string;
  scopes: Scope[];
  room_ids: string[];
  created_at: Date;
  revoked_at: Date | null;
}

const toToken = (row: TokenRow): ServiceToken => ({
  id: row.id,
  name: row.name,
  scopes: row.scopes,
  roomIds: row.room_ids,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

async function requireAdmin(db: Queryable, principal: UserPrincipal): Promise<void> {
  const [row] = await db.query<{ is_admin: boolean }>('SELECT is_admin FROM users WHERE id = $1', [principal.userId]);
  if (!row?.is_admin) throw new TRPCError({ code: 'FORBIDDEN', message: 'only an admin manages service tokens' });
}

const TOKEN_SELECT = `SELECT t.id, u.username AS name, t.scopes, t.room_ids, t.created_at, t.revoked_at
  FROM service_tokens t JOIN users u ON u.id = t.bot_user_id`;

/**
 * Each token acts as a bot identity of its own (a user row that can never
 * sign in), so its messages show under its name and room membership works as
 * for people; the bot joins the rooms the token is limited to.
 */
export function createTokensService({
  store,
  writes,
  events,
  revocations,
}: {
  store: Store;
  writes: GroupCommit;
  events: RoomEventLog;
  /** Ends open sessions bound to a revocation key, on every server process, once the write commits. */
  revocations: Pick<RevocationLog, 'record'>;
}): Services['tokens'] {
  return {
    async create(principal, input) {
      const { name, scopes } = input;
      // A room named twice is one room: one membership, one member.joined.
      const roomIds = [...new Set(input.roomIds)];
      await requireAdmin(store, principal);
      const token = newServiceToken();
      try {
        return await writes.run(async (tx) => {
          for (const roomId of roomIds) {
            // Being admin opens no private room: a bot goes only where its maker may go (else, as if no such room).
            const [room] = await tx.query(`SELECT 1 FROM rooms r WHERE r.id = $2 AND ${READABLE_BY_USER_1}`, [
              principal.userId,
              roomId,
            ]);
            if (!room) throw new TRPCError({ code: 'NOT_FOUND', message: `no room ${roomId}` });
          }
          const botId = randomUUID();
          // '!' is no scrypt hash: the bot can never sign in with a password.
          await tx.query("INSERT INTO users (id, username, password_hash, is_service) VALUES ($1, $2, '!', true)", [
            botId,
            name,
          ]);
          const id = randomUUID();
          await tx.query(
            'INSERT INTO service_tokens (id, bot_user_id, token_hash, scopes, room_ids, created_by) VALUES ($1, $2, $3, $4, $5, $6)',
            [id, botId, hashServiceToken(token), JSON.stringify(scopes), JSON.stringify(roomIds), principal.userId],
          );
          for (const roomId of roomIds) {
            await tx.query('INSERT INTO room_members (room_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
              roomId,
              botId,
            ]);
            await events.append(tx, [
              {
                roomId,
                build: (seq, at) => ({ type: 'member.joined', roomId, seq, at, member: { id: botId, username: name } }),
              },
            ]);
          }
          const [row] = await tx.query<TokenRow>(`${TOKEN_SELECT} WHERE t.id = $1`, [id]);
          if (!row) throw new Error('token vanished');
          return { ...toToken(row), token };
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new TRPCError({ code: 'CONFLICT', message: `the name "${name}" is taken` });
        throw error;
      }
    },
    async list(principal) {
      await requireAdmin(store, principal);
      return (await store.query<TokenRow>(`${TOKEN_SELECT} ORDER BY t.created_at`)).map(toToken);
    },
    async revoke(principal, { id }) {
      await requireAdmin(store, principal);
      await writes.run(async (tx) => {
        const revoked = await tx.query(
          'UPDATE service_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id',
          [id],
        );
        if (revoked.length === 0) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such active token' });
        await revocations.record(tx, serviceTokenRevocationKey(id), 'service token revoked');
      });
    },
  };
}
