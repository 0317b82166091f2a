import type { Principal, Room } from '@tether/protocol';
import type { Queryable } from '@tether/server-core';
import { TRPCError } from '@trpc/server';

export interface RoomRow {
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

/** Whether room `r` is readable by user $1: public, or private with them as a member. */
export const READABLE_BY_USER_1 = `(r.visibility = 'public'
  OR EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = r.id AND m.user_id = $1))`;

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

/**
 * A room by name that `userId` may read: theirs if they belong to one of that
 * name (a private name may repeat; belonging to two is ambiguous), else the public one.
 */
export async function roomByName(db: Queryable, userId: string, name: string): Promise<Room> {
  const rows = await db.query<RoomRow>(`${ROOM_SELECT} WHERE r.name = $2 AND ${READABLE_BY_USER_1}`, [userId, name]);
  const rooms = rows.map(toRoom);
  const mine = rooms.filter((room) => room.isMember);
  if (mine.length > 1) {
    throw new TRPCError({
      code: 'CONFLICT',
      message: `you belong to ${mine.length} rooms named "${name}": name one by its id (${mine.map((room) => room.id).join(', ')})`,
    });
  }
  const room = mine[0] ?? rooms.find((candidate) => candidate.visibility === 'public');
  if (!room) throw new TRPCError({ code: 'NOT_FOUND', message: `no room "${name}" that you can see` });
  return room;
}

type Access = Pick<Room, 'visibility' | 'isMember'>;

/** Who reads: a person, or a service (whose token reaches only the rooms its bot belongs to). */
export type Reader = Pick<Principal, 'userId' | 'kind'>;

/** Public rooms are readable by every signed-in person; private rooms, and any room for a service, by members only. */
function refusalToRead(room: Access | undefined, reader?: Reader): TRPCError | null {
  if (!room) return new TRPCError({ code: 'NOT_FOUND', message: 'no such room' });
  if (room.visibility === 'private' && !room.isMember) {
    return new TRPCError({ code: 'FORBIDDEN', message: 'this private room is for members only' });
  }
  if (reader?.kind === 'service' && !room.isMember) {
    return new TRPCError({ code: 'FORBIDDEN', message: "this service token's bot is not a member of this room" });
  }
  return null;
}

/** Changing a room's content needs membership. */
function refusalToWrite(room: Access | undefined): TRPCError | null {
  const refusal = refusalToRead(room);
  if (refusal || room?.isMember) return refusal;
  return new TRPCError({ code: 'FORBIDDEN', message: 'join the room first' });
}

export async function roomForReading(db: Queryable, reader: Reader, roomId: string): Promise<Room> {
  const room = await findRoom(db, reader.userId, roomId);
  const refusal = refusalToRead(room, reader);
  if (refusal) throw refusal;
  return room;
}

/**
 * Whether `userId` may read `roomId`, and the room's newest seq: what a
 * subscription checks before it starts. One index lookup per table, where
 * `findRoom` also counts members.
 */
export async function assertMayRead(db: Queryable, reader: Reader, roomId: string): Promise<{ lastSeq: number }> {
  const [row] = await db.query<{ visibility: Room['visibility']; is_member: boolean; last_seq: number }>(
    `SELECT r.visibility,
       EXISTS (SELECT 1 FROM room_members m WHERE m.room_id = r.id AND m.user_id = $1) AS is_member,
       COALESCE((SELECT s.last_seq FROM event_streams s WHERE s.stream_id = 'room:' || r.id), 0) AS last_seq
     FROM rooms r WHERE r.id = $2`,
    [reader.userId, roomId],
  );
  const refusal = refusalToRead(row && { visibility: row.visibility, isMember: row.is_member }, reader);
  if (refusal) throw refusal;
  return { lastSeq: row?.last_seq ?? 0 };
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
