import type { Room, User } from '@tether/protocol';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useState } from 'react';
import { useTRPC } from '../trpc';
import { readMarker, resetReadMarker } from './read-markers';

/**
 * Messages from others since the user last read the room. Replays from the
 * read marker, so the count survives reloads and is exact, then counts live.
 */
export function UnreadBadge({ room, user }: { room: Room; user: User }) {
  const trpc = useTRPC();
  const [since, setSince] = useState(() => readMarker(user.id, room.id) ?? room.lastSeq);
  const [count, setCount] = useState(0);
  useSubscription(
    trpc.rooms.events.subscriptionOptions(
      { roomId: room.id, lastEventId: String(since) },
      {
        onData: ({ data }) => {
          if (data.type === 'message.sent' && data.message.author.id !== user.id) setCount((n) => n + 1);
        },
        // The marker is past the room's newest event (the server's data was reset): what is unread is
        // unknown, so the room counts as read up to its head, and the badge goes on from there.
        onError: (error) => {
          const head = error.data?.resyncHeadSeq;
          if (head == null) return;
          resetReadMarker(user.id, room.id, head);
          setCount(0);
          setSince(head);
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
