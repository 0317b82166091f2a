import type { Room, User } from '@tether/protocol';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useState } from 'react';
import { useTRPC } from '../trpc';
import { readMarker } from './read-markers';

/**
 * Messages from others since the user last read the room. Replays from the
 * read marker, so the count survives reloads and is exact, then counts live.
 */
export function UnreadBadge({ room, user }: { room: Room; user: User }) {
  const trpc = useTRPC();
  const [since] = useState(() => readMarker(user.id, room.id) ?? room.lastSeq);
  const [count, setCount] = useState(0);
  useSubscription(
    trpc.rooms.events.subscriptionOptions(
      { roomId: room.id, lastEventId: String(since) },
      {
        onData: ({ data }) => {
          if (data.type === 'message.sent' && data.message.author.id !== user.id) setCount((n) => n + 1);
        },
      },
    ),
  );
  if (count === 0) return null;
  return (
    <span className="badge" role="img" aria-label={`${count} unread`}>
      {count > 99 ? '99+' : count}
    </span>
  );
}
