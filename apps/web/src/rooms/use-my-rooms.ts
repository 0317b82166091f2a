import { useQuery } from '@tanstack/react-query';
import { allRoomPages } from '@tether/protocol';
import { useTRPC, useTRPCClient } from '../trpc';

/** How often the room list is re-read, so invitations and new rooms appear without a reload. */
const ROOM_LIST_REFRESH_MS = 5_000;

/**
 * The rooms the user belongs to, every page of them (they are the user's own;
 * the public directory is browsed a page at a time). Kept under
 * `rooms.list`'s key, so invalidating that key re-reads it.
 */
export function useMyRooms() {
  const trpc = useTRPC();
  const client = useTRPCClient();
  return useQuery({
    queryKey: trpc.rooms.list.queryKey(),
    queryFn: ({ signal }) => allRoomPages((cursor) => client.rooms.list.query({ cursor, limit: 100 }, { signal })),
    refetchInterval: ROOM_LIST_REFRESH_MS,
  });
}
