import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { User } from '@tether/protocol';
import { useEffect } from 'react';
import { useTetherClient } from './connection/client-context';
import { describeError } from './errors';
import { CreateRoomForm } from './rooms/create-room-form';
import { RoomDirectory } from './rooms/room-directory';
import { RoomList } from './rooms/room-list';
import { RoomView } from './rooms/room-view';
import { useMyRooms } from './rooms/use-my-rooms';
import { useSelectedRoom } from './rooms/use-selected-room';
import { sessionStore } from './session/use-session';
import { useTRPC } from './trpc';

export function ChatLayout({ user }: { user: User }) {
  const trpc = useTRPC();
  const client = useTetherClient();
  const queryClient = useQueryClient();
  // During an outage the last list stays on screen (its errors are the banner's to tell); re-read on reconnect.
  const rooms = useMyRooms();
  useEffect(
    () =>
      client.status.subscribe((status) => {
        if (status.state === 'connected') void queryClient.invalidateQueries({ queryKey: trpc.rooms.list.queryKey() });
      }),
    [client, queryClient, trpc],
  );
  const [selectedId, select] = useSelectedRoom();
  const mine = rooms.data?.find((room) => room.id === selectedId);
  // A room the user has not joined (opened from the directory or a link) is read on its own.
  const other = useQuery({
    ...trpc.rooms.get.queryOptions({ roomId: selectedId ?? '' }),
    enabled: !!selectedId && rooms.isSuccess && !mine,
  });
  const selected = mine ?? (other.data?.id === selectedId ? other.data : null);

  return (
    <div className="layout">
      <aside className="sidebar">
        <div className="me">
          <span>
            Signed in as <strong>{user.username}</strong>
          </span>
          <button type="button" className="link" onClick={() => void sessionStore.signOut()}>
            Sign out
          </button>
        </div>
        {rooms.error && !rooms.data && (
          <p role="alert" className="error">
            {describeError(rooms.error)}
          </p>
        )}
        {rooms.data && <RoomList rooms={rooms.data} user={user} selectedId={selectedId} onSelect={select} />}
        <CreateRoomForm onCreated={select} />
        <RoomDirectory onSelect={select} />
      </aside>
      <main className="main">
        {selected ? (
          <RoomView key={selected.id} room={selected} user={user} />
        ) : (
          <p className="muted empty">{rooms.isPending ? 'Loading rooms…' : 'Pick a room, or create one.'}</p>
        )}
      </main>
    </div>
  );
}
