import { applyPresenceUpdate, type Presence, type UserRef } from '@tether/protocol';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useState } from 'react';
import { useTRPC } from '../trpc';

function typingText(typing: UserRef[], selfId: string): string {
  const names = typing.filter((u) => u.id !== selfId).map((u) => u.username);
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}

/** Who has the room open now, and who is typing. Ephemeral: it starts afresh on every reconnect. */
export function PresenceBar({ roomId, selfId }: { roomId: string; selfId: string }) {
  const trpc = useTRPC();
  // The server sends a snapshot, then only what changed: folded here into what the room looks like.
  const [known, setKnown] = useState<Presence | null>(null);
  const subscription = useSubscription(
    trpc.rooms.presence.subscriptionOptions(
      { roomId },
      { onData: (update) => setKnown((previous) => applyPresenceUpdate(previous, update)) },
    ),
  );
  // Presence is only true while it is live: when the connection drops, show nobody rather than stale names.
  const data = subscription.status === 'pending' ? known : null;
  const online = data?.online ?? [];
  return (
    <div className="presence">
      <span>{online.length > 0 ? `Here now: ${online.map((u) => u.username).join(', ')}` : ''}</span>
      <span className="typing" aria-live="polite">
        {typingText(data?.typing ?? [], selfId)}
      </span>
    </div>
  );
}
