import type { AppRouter, Room } from '@tether/protocol';
import type { TRPCClient } from '@trpc/client';

/** A room by name (as people type it) or id (as scripts may pass it). */
export async function findRoom(api: TRPCClient<AppRouter>, nameOrId: string): Promise<Room> {
  const rooms = await api.rooms.list.query();
  const wanted = nameOrId.toLowerCase();
  const room = rooms.find((r) => r.name === wanted || r.id === nameOrId);
  if (!room) throw new Error(`no room "${nameOrId}" that you can see; \`tether rooms ls\` lists them`);
  return room;
}
