import type { Room, User } from '@tether/protocol';
import { UnreadBadge } from './unread-badge';

/** The user's rooms, public and private; unread counts on the rooms not open. */
export function RoomList(props: {
  rooms: Room[];
  user: User;
  selectedId: string | null;
  onSelect: (id: string) => void;
}) {
  const { rooms, user, selectedId, onSelect } = props;
  if (rooms.length === 0) return <p className="muted">No rooms yet: create one, or join a public one below.</p>;
  return (
    <nav aria-label="Rooms">
      <ul className="room-list">
        {rooms.map((room) => (
          <li key={room.id}>
            <button
              type="button"
              className={room.id === selectedId ? 'room selected' : 'room'}
              aria-current={room.id === selectedId ? 'page' : undefined}
              onClick={() => onSelect(room.id)}
            >
              <span className="room-name">
                {room.visibility === 'private' ? '🔒 ' : '# '}
                {room.name}
              </span>
              {room.isMember && room.id !== selectedId && <UnreadBadge room={room} user={user} />}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
