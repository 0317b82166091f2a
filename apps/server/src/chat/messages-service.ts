import { randomUUID } from 'node:crypto';
import type { Message, Principal, SendMessageInput, Services } from '@tether/protocol';
import type { GroupCommit, Outcome, Queryable, Store, WriteTx } from '@tether/server-core';
import { TRPCError } from '@trpc/server';
import type { PresenceTracker } from './presence';
import { roomForReading, roomForWriting, writeRefusals } from './room-access';
import type { RoomEventLog } from './room-events';
import type { WriteLimits } from './write-limits';

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

interface SendRequest {
  principal: Principal;
  input: SendMessageInput;
}

/** Inserts the rows behind `message.sent` events, in one statement. */
async function insertMessages(tx: Queryable, messages: readonly Message[]): Promise<void> {
  await tx.query(
    `INSERT INTO messages (id, room_id, seq, author_id, body, created_at)
     SELECT id, room_id, seq, author_id, body, created_at FROM jsonb_to_recordset($1::jsonb)
       AS t(id uuid, room_id uuid, seq integer, author_id uuid, body text, created_at timestamptz)`,
    [
      JSON.stringify(
        messages.map((m) => ({
          id: m.id,
          room_id: m.roomId,
          seq: m.seq,
          author_id: m.author.id,
          body: m.body,
          created_at: m.createdAt,
        })),
      ),
    ],
  );
}

/**
 * A batch of sends in one transaction: who may write where, the rooms' next
 * seqs and events, then the message rows; a refused send fails alone.
 */
function sendBatch(events: RoomEventLog) {
  return async (tx: WriteTx, sends: readonly SendRequest[]): Promise<Array<Outcome<Message>>> => {
    const refusals = await writeRefusals(
      tx,
      sends.map(({ principal, input }) => ({ userId: principal.userId, roomId: input.roomId })),
    );
    const allowed = sends.filter((_, i) => refusals[i] === null);
    const sent = await events.append(
      tx,
      allowed.map(({ principal, input }) => ({
        roomId: input.roomId,
        build: (seq: number, at: Date) => ({
          type: 'message.sent' as const,
          seq,
          message: {
            id: randomUUID(),
            roomId: input.roomId,
            seq,
            author: { id: principal.userId, username: principal.username },
            body: input.body,
            createdAt: at,
            editedAt: null,
          },
        }),
      })),
    );
    const messages = sent.map((event) => event.message);
    await insertMessages(tx, messages);
    let next = 0;
    return refusals.map((refusal) =>
      refusal ? { ok: false, error: refusal } : { ok: true, value: messages[next++] as Message },
    );
  };
}

export function createMessagesService({
  store,
  writes,
  events,
  presence,
  writeLimits,
}: {
  store: Store;
  writes: GroupCommit;
  events: RoomEventLog;
  presence: PresenceTracker;
  /** Every send, edit and delete counts toward its author's rate. */
  writeLimits: Pick<WriteLimits, 'admitWrite'>;
}): Services['messages'] {
  // Sends lock their rooms' streams in id order, so their batches may run beside each other.
  const send = writes.define(sendBatch(events), { concurrent: true });
  return {
    async send(principal, input, once) {
      await writeLimits.admitWrite(principal.userId);
      const message = await send({ principal, input }, once);
      // Whoever has sent has stopped typing.
      presence.stopTyping(input.roomId, principal.userId);
      return message;
    },

    async edit(principal, input, once) {
      await writeLimits.admitWrite(principal.userId);
      return writes.run(async (tx) => {
        const row = await ownMessage(tx, principal, input.messageId);
        const [updated] = await tx.query<{ edited_at: Date }>(
          'UPDATE messages SET body = $2, edited_at = now() WHERE id = $1 RETURNING edited_at',
          [row.id, input.body],
        );
        const message: Message = { ...toMessage(row), body: input.body, editedAt: updated?.edited_at ?? new Date() };
        await events.append(tx, [
          {
            roomId: row.room_id,
            build: (seq) => ({ type: 'message.edited', seq, message }),
          },
        ]);
        return message;
      }, once);
    },

    async delete(principal, input, once) {
      await writeLimits.admitWrite(principal.userId);
      await writes.run(async (tx) => {
        const row = await ownMessage(tx, principal, input.messageId);
        await tx.query('UPDATE messages SET deleted_at = now() WHERE id = $1', [row.id]);
        await events.append(tx, [
          {
            roomId: row.room_id,
            build: (seq, at) => ({
              type: 'message.deleted',
              roomId: row.room_id,
              seq,
              at,
              messageId: row.id,
              by: { id: principal.userId, username: principal.username },
            }),
          },
        ]);
      }, once);
    },

    async list(principal, { roomId, beforeSeq, limit }) {
      await roomForReading(store, principal, roomId);
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
