import type { Room, RoomPage, RoomPageInput } from '@tether/protocol';
import type { Queryable } from '@tether/server-core';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { ROOM_SELECT, type RoomRow, toRoom } from './room-access';

const cursorSchema = z.tuple([z.string(), z.uuid()]);

/** Where a page ends: the last room's name and id (names repeat across private rooms), opaque to clients. */
const encodeCursor = (room: Room) => Buffer.from(JSON.stringify([room.name, room.id])).toString('base64url');

function decodeCursor(cursor: string): [name: string, id: string] {
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString()));
    if (parsed.success) return parsed.data;
  } catch {}
  throw new TRPCError({ code: 'BAD_REQUEST', message: 'cursor is not one this server gave' });
}

/**
 * One page of rooms seen by `userId`, in name order: the user's own rooms
 * (`mine`) or the public directory; `name` filters by a part of the name.
 */
export async function roomPage(
  db: Queryable,
  userId: string,
  which: 'mine' | 'directory',
  { name, cursor, limit }: RoomPageInput,
): Promise<RoomPage> {
  const [afterName, afterId] = cursor ? decodeCursor(cursor) : [null, null];
  const scope =
    which === 'mine'
      ? 'JOIN room_members mine ON mine.room_id = r.id AND mine.user_id = $1 WHERE true'
      : "WHERE r.visibility = 'public'";
  // One more than asked: whether there is a next page, without counting.
  const rows = await db.query<RoomRow>(
    `${ROOM_SELECT} ${scope}
       AND ($2::text IS NULL OR strpos(r.name, $2::text) > 0)
       AND ($3::text IS NULL OR (r.name, r.id) > ($3::text, $4::uuid))
     ORDER BY r.name, r.id LIMIT $5`,
    [userId, name || null, afterName, afterId, limit + 1],
  );
  const rooms = rows.slice(0, limit).map(toRoom);
  const last = rooms.at(-1);
  return { rooms, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}
