import type { Room, User } from '@tether/protocol';
import { useEffect, useMemo } from 'react';
import { describeError } from '../errors';
import { Composer } from '../messages/composer';
import { MessageList } from '../messages/message-list';
import { visiblePending } from '../messages/timeline';
import { usePendingSends } from '../messages/use-pending-sends';
import { useRoomMessages } from '../messages/use-room-messages';
import { PresenceBar } from '../presence/presence-bar';
import { markRead } from './read-markers';
import { RoomHeader } from './room-header';

/** One room: header, who is here, the conversation and the composer. */
export function RoomView({ room, user }: { room: Room; user: User }) {
  const conversation = useRoomMessages(room.id);
  const sends = usePendingSends(room.id, conversation.confirm);
  const pending = useMemo(
    () => visiblePending(sends.pending, conversation.messages, user.id),
    [sends.pending, conversation.messages, user.id],
  );
  useEffect(() => {
    if (conversation.newestSeq > 0) markRead(user.id, room.id, conversation.newestSeq);
  }, [conversation.newestSeq, user.id, room.id]);

  return (
    <section className="room-view" aria-label={`Room ${room.name}`} data-synced={conversation.synced}>
      <RoomHeader room={room} />
      <PresenceBar roomId={room.id} selfId={user.id} />
      {conversation.error ? (
        <p role="alert" className="error">
          {describeError(conversation.error)}{' '}
          <button type="button" className="link" onClick={() => void conversation.retry()}>
            Retry
          </button>
        </p>
      ) : conversation.loading ? (
        <p className="muted">Loading messages…</p>
      ) : (
        <MessageList
          messages={conversation.messages}
          pending={pending}
          selfId={user.id}
          hasOlder={conversation.hasOlder}
          loadingOlder={conversation.loadingOlder}
          olderError={conversation.olderError ? describeError(conversation.olderError) : null}
          loadOlder={conversation.loadOlder}
          onDiscard={sends.discard}
        />
      )}
      {room.isMember ? (
        <Composer roomId={room.id} onSend={(body) => sends.send(body, conversation.newestSeq)} />
      ) : (
        <p className="muted join-hint">Join the room to write.</p>
      )}
    </section>
  );
}
