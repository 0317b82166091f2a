import type { Principal, Room, RoomStreamItem } from '@tether/protocol';
import { TRPCError } from '@trpc/server';

/**
 * A private room's events for one member: after a `member.left` for that
 * member the current membership is checked (a replayed leave may have been
 * followed by a rejoin), and the stream ends with FORBIDDEN if it is gone.
 * Public rooms are readable by everyone, so their streams pass through.
 */
export async function* whileMember(
  room: Room,
  principal: Principal,
  events: AsyncIterable<RoomStreamItem>,
  isMember: () => Promise<boolean>,
): AsyncGenerator<RoomStreamItem, void, undefined> {
  for await (const event of events) {
    yield event;
    const left = event.type === 'member.left' && event.member.id === principal.userId;
    if (room.visibility === 'private' && left && !(await isMember())) {
      throw new TRPCError({ code: 'FORBIDDEN', message: 'you left this private room' });
    }
  }
}
