import type { Room, RoomPage } from './schemas/rooms';

/** Every room of a paged listing (`rooms.list`, `rooms.directory`), page after page; `pageAfter` reads the page after `cursor`. */
export async function allRoomPages(pageAfter: (cursor: string | undefined) => Promise<RoomPage>): Promise<Room[]> {
  const rooms: Room[] = [];
  let cursor: string | undefined;
  do {
    const page = await pageAfter(cursor);
    rooms.push(...page.rooms);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return rooms;
}
