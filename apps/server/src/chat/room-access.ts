import type { Room } from '@tether/protocol';
import type { Queryable } from '@tether/server-core';
import { TRPCError } from '@trpc/server';

interface RoomRow {
  id: string;
  name: string;
  visibility: Room['visibility'];
  created_by: string;
  created_at: Date;
  is_member: boolean;
  member_count: number;
  last_seq: number;
}

/** Rooms as seen by user $1; the seq comes from the room's stream in the event log. */
export const ROOM_SELECT = `
  SELECT r.id, r.name, r.visibility, r.created_by, r.created_at,
    EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = r.id AND m.user_id = $1) AS is_member,
    (SELECT count(*)::integer FROM room_members m WHERE m.room_id = r.id) AS member_count,
    COALESCE((SELECT s.last_seq FROM event_streams s WHERE s.stream_id = 'room:' || r.id), 0) AS last_seq
  FROM rooms r`;

export const toRoom = (row: RoomRow): Room => ({
  id: row.id,
  name: row.name,
  visibility: row.visibility,
  createdBy: row.created_by,
  createdAt: row.created_at,
  isMember: row.is_member,
  memberCount: row.member_count,
  lastSeq: row.last_seq,
});

export async function findRoom(db: Queryable, userId: string, roomId: string): Promise<Room> {
  const [row] = await db.query<RoomRow>(`${ROOM_SELECT} WHERE r.id = $2`, [userId, roomId]);
  if (!row) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such room' });
  return toRoom(row);
}

export async function listRooms(db: Queryable, userId: string): Promise<Room[]> {
  const rows = await db.query<RoomRow>(
    `${ROOM_SELECT} WHERE r.visibility = 'public'
       OR EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = r.id AND m.user_id = $1)
     ORDER BY r.name`,
    [userId],
  );
  return rows.map(toRoom);
}

type Access = Pick<Room, 'visibility' | 'isMember'>;

/** Public rooms are readable by every signed-in user; private rooms by members only. */
function refusalToRead(room: Access | undefined): TRPCError | null {
  if (!room) return new TRPCError({ code: 'NOT_FOUND', message: 'no such room' });
  if (room.visibility === 'private' && !room.isMember) {
    return new TRPCError({ code: 'FORBIDDEN', message: 'this private room is for members only' });
  }
  return null;
}

/** Changing a room's content needs membership. */
function refusalToWrite(room: Access | undefined): TRPCError | null {
  const refusal = refusalToRead(room);
  if (refusal || room?.isMember) return refusal;
  return new TRPCError({ code: 'FORBIDDEN', message: 'join the room first' });
}

export async function roomForReading(db: Queryable, userId: string, roomId: string): Promise<Room> {
  const room = await findRoom(db, userId, roomId);
  const refusal = refusalToRead(room);
  if (refusal) throw refusal;
  return room;
}

/**
 * Whether `userId` may read `roomId`, and nothing else: what a subscription
 * checks before it starts. One index lookup per table, where `findRoom` also
 * counts members and reads the room's head.
 */
export async function assertMayRead(db: Queryable, userId: string, roomId: string): Promise<void> {
  const [row] = await db.query<{ visibility: Room['visibility']; is_member: boolean }>(
    `SELECT r.visibility,
       EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = r.id AND m.user_id = $1) AS is_member
     FROM rooms r WHERE r.id = $2`,
    [userId, roomId],
  );
  const refusal = refusalToRead(row && { visibility: row.visibility, isMember: row.is_member });
  if (refusal) throw refusal;
}

export async function roomForWriting(db: Queryable, userId: string, roomId: string): Promise<Room> {
  const room = await findRoom(db, userId, roomId);
  const refusal = refusalToWrite(room);
  if (refusal) throw refusal;
  return room;
}

/** For many (user, room) pairs at once, in one statement: why each may not write, or null when it may. */
export async function writeRefusals(
  db: Queryable,
  pairs: ReadonlyArray<{ userId: string; roomId: string }>,
): Promise<Array<TRPCError | null>> {
  const rows = await db.query<{ i: number; visibility: Room['visibility']; is_member: boolean }>(
    `SELECT t.i, r.visibility, (m.user_id IS NOT NULL) AS is_member
     FROM jsonb_to_recordset($1::jsonb) AS t(i integer, user_id uuid, room_id uuid)
     JOIN rooms r ON r.id = t.room_id
     LEFT JOIN room_members m ON m.room_id = t.room_id AND m.user_id = t.user_id`,
    [JSON.stringify(pairs.map(({ userId, roomId }, i) => ({ i, user_id: userId, room_id: roomId })))],
  );
  const access = new Map(rows.map((row) => [row.i, { visibility: row.visibility, isMember: row.is_member }]));
  return pairs.map((_, i) => refusalToWrite(access.get(i)));
}
