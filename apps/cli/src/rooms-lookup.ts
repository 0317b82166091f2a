import { type AppRouter, allRoomPages, type Room } from '@tether/protocol';
import type { TRPCClient } from '@trpc/client';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A room as commands need it: its id, and a name for messages. */
export type RoomRef = Pick<Room, 'id' | 'name'>;

/**
 * A room by name (as people type it) or id (as scripts and service tokens,
 * which cannot look rooms up, pass it).
 */
export async function findRoom(api: TRPCClient<AppRouter>, nameOrId: string): Promise<RoomRef> {
  if (UUID.test(nameOrId)) return { id: nameOrId, name: nameOrId };
  return api.rooms.find.query({ name: nameOrId });
}

/** Every room of a listing, page after page: the user's own (`mine`) or the public directory. */
export async function allRooms(
  api: TRPCClient<AppRouter>,
  which: 'mine' | 'directory',
  name: string | undefined,
): Promise<Room[]> {
  const list = which === 'mine' ? api.rooms.list : api.rooms.directory;
  return allRoomPages((cursor) => list.query({ name, cursor, limit: 100 }));
}
