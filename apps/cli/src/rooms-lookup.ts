import type { AppRouter, Room } from '@tether/protocol';
import type { TRPCClient } from '@trpc/client';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A room as commands need it: its id, and a name for messages. */
export type RoomRef = Pick<Room, 'id' | 'name'>;

/**
 * A room by name (as people type it) or id (as scripts and service tokens,
 * which cannot list rooms, pass it).
 */
export async function findRoom(api: TRPCClient<AppRouter>, nameOrId: string): Promise<RoomRef> {
  if (UUID.test(nameOrId)) return { id: nameOrId, name: nameOrId };
  const rooms = await api.rooms.list.query();
  const wanted = nameOrId.toLowerCase();
  const room = rooms.find((r) => r.name === wanted || r.id === nameOrId);
  if (!room) throw new Error(`no room "${nameOrId}" that you can see; \`tether rooms ls\` lists them`);
  return room;
}
