import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { describeError } from '../errors';
import { useTRPC } from '../trpc';

/** Public rooms to join, a page at a time, filtered by a part of their name. */
export function RoomDirectory({ onSelect }: { onSelect: (id: string) => void }) {
  const trpc = useTRPC();
  const [name, setName] = useState('');
  const directory = useInfiniteQuery(
    trpc.rooms.directory.infiniteQueryOptions(
      { name: name.trim() || undefined, limit: 20 },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const rooms = directory.data?.pages.flatMap((page) => page.rooms).filter((room) => !room.isMember) ?? [];
  return (
    <section className="directory" aria-label="Public rooms">
      <label>
        Find a public room
        <input type="search" value={name} onChange={(event) => setName(event.target.value)} placeholder="name" />
      </label>
      {directory.error && (
        <p role="alert" className="error">
          {describeError(directory.error)}
        </p>
      )}
      <ul className="room-list">
        {rooms.map((room) => (
          <li key={room.id}>
            <button type="button" className="room" onClick={() => onSelect(room.id)}>
              <span className="room-name"># {room.name}</span>
              <span className="muted">{room.memberCount}</span>
            </button>
          </li>
        ))}
      </ul>
      {directory.hasNextPage && (
        <button
          type="button"
          className="link"
          onClick={() => void directory.fetchNextPage()}
          disabled={directory.isFetchingNextPage}
        >
          More rooms
        </button>
      )}
    </section>
  );
}
