import { randomUUID } from 'node:crypto';
import type { Message, Principal, Services } from '@tether/protocol';
import { TRPCError } from '@trpc/server';
import { onceFor, runIdempotent } from '../store/idempotency';
import type { Queryable, Store } from '../store/store';
import type { PresenceTracker } from './presence';
import { roomForReading, roomForWriting } from './room-access';
import type { RoomEventLog } from './room-events';

interface MessageRow {
  id: string;
  room_id: string;
  seq: number;
  author_id: string;
  author_username: string;
  body: string;
  created_at: Date;
  edited_at: Date | null;
}

const MESSAGE_SELECT = `
  SELECT m.id, m.room_id, m.seq, m.author_id, u.username AS author_username, m.body, m.created_at, m.edited_at
  FROM messages m JOIN users u ON u.id = m.author_id`;

const toMessage = (row: MessageRow): Message => ({
  id: row.id,
  roomId: row.room_id,
  seq: row.seq,
  author: { id: row.author_id, username: row.author_username },
  body: row.body,
  createdAt: row.created_at,
  editedAt: row.edited_at,
});

/** A live message the principal wrote, locked for the change. */
async function ownMessage(tx: Queryable, principal: Principal, messageId: string): Promise<MessageRow> {
  const [row] = await tx.query<MessageRow>(
    `${MESSAGE_SELECT} WHERE m.id = $1 AND m.deleted_at IS NULL FOR UPDATE OF m`,
    [messageId],
  );
  if (!row) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such message' });
  await roomForWriting(tx, principal.userId, row.room_id);
  if (row.author_id !== principal.userId) {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'only the author can change a message' });
  }
  return row;
}

export function createMessagesService({
  store,
  events,
  presence,
}: {
  store: Store;
  events: RoomEventLog;
  presence: PresenceTracker;
}): Services['messages'] {
  return {
    send: async (principal, input) => {
      // Whoever sends has stopped typing.
      presence.stopTyping(input.roomId, principal.userId);
      return events.write((tx, append) =>
        runIdempotent(tx, onceFor(principal, input.idempotencyKey, ['messages.send', input]), async () => {
          await roomForWriting(tx, principal.userId, input.roomId);
          const event = await append(input.roomId, (seq, at) => ({
            type: 'message.sent',
            roomId: input.roomId,
            seq,
            at,
            message: {
              id: randomUUID(),
              roomId: input.roomId,
              seq,
              author: { id: principal.userId, username: principal.username },
              body: input.body,
              createdAt: at,
              editedAt: null,
            },
          }));
          const { message } = event;
          await tx.query(
            'INSERT INTO messages (id, room_id, seq, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
            [message.id, message.roomId, message.seq, message.author.id, message.body, message.createdAt],
          );
          return message;
        }),
      );
    },

    edit: (principal, input) =>
      events.write((tx, append) =>
        runIdempotent(tx, onceFor(principal, input.idempotencyKey, ['messages.edit', input]), async () => {
          const row = await ownMessage(tx, principal, input.messageId);
          const [updated] = await tx.query<{ edited_at: Date }>(
            'UPDATE messages SET body = $2, edited_at = now() WHERE id = $1 RETURNING edited_at',
            [row.id, input.body],
          );
          const message: Message = { ...toMessage(row), body: input.body, editedAt: updated?.edited_at ?? new Date() };
          await append(row.room_id, (seq, at) => ({ type: 'message.edited', roomId: row.room_id, seq, at, message }));
          return message;
        }),
      ),

    async delete(principal, input) {
      await events.write((tx, append) =>
        runIdempotent(tx, onceFor(principal, input.idempotencyKey, ['messages.delete', input]), async () => {
          const row = await ownMessage(tx, principal, input.messageId);
          await tx.query('UPDATE messages SET deleted_at = now() WHERE id = $1', [row.id]);
          await append(row.room_id, (seq, at) => ({
            type: 'message.deleted',
            roomId: row.room_id,
            seq,
            at,
            messageId: row.id,
            by: { id: principal.userId, username: principal.username },
          }));
        }),
      );
    },

    async list(principal, { roomId, beforeSeq, limit }) {
      await roomForReading(store, principal.userId, roomId);
      const rows = await store.query<MessageRow>(
        `${MESSAGE_SELECT}
         WHERE m.room_id = $1 AND m.deleted_at IS NULL AND ($2::integer IS NULL OR m.seq < $2)
         ORDER BY m.seq DESC LIMIT $3`,
        [roomId, beforeSeq ?? null, limit + 1],
      );
      const page = rows.slice(0, limit).map(toMessage);
      const oldest = page.at(-1);
      return { messages: page, nextBeforeSeq: rows.length > limit && oldest ? oldest.seq : null };
    },
  };
}
