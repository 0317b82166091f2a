import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { Room } from '@tether/protocol';
import type { FormEvent } from 'react';
import { describeError } from '../errors';
import { useTRPC } from '../trpc';

/** The room's name and membership actions: join, leave, invite. */
export function RoomHeader({ room }: { room: Room }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // The user's rooms, this room on its own, and the directory all show membership.
  const refreshRooms = () => queryClient.invalidateQueries({ queryKey: trpc.rooms.pathKey() });
  const join = useMutation(trpc.rooms.join.mutationOptions({ onSuccess: refreshRooms }));
  const leave = useMutation(trpc.rooms.leave.mutationOptions({ onSuccess: refreshRooms }));
  const invite = useMutation(trpc.rooms.invite.mutationOptions({ onSuccess: refreshRooms }));
  const error = join.error ?? leave.error;

  function submitInvite(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    invite.mutate(
      { roomId: room.id, username: String(new FormData(form).get('username')) },
      { onSuccess: () => form.reset() },
    );
  }

  return (
    <header className="room-header">
      <h2>
        {room.visibility === 'private' ? '🔒 ' : '# '}
        {room.name}
      </h2>
      <span className="muted">
        {room.memberCount} {room.memberCount === 1 ? 'member' : 'members'}
      </span>
      {room.isMember ? (
        <button
          type="button"
          className="secondary"
          onClick={() => leave.mutate({ roomId: room.id })}
          disabled={leave.isPending}
        >
          Leave
        </button>
      ) : (
        <button type="button" onClick={() => join.mutate({ roomId: room.id })} disabled={join.isPending}>
          Join
        </button>
      )}
      {room.isMember && (
        <form onSubmit={submitInvite} className="invite" aria-label="Invite someone">
          <label>
            Invite
            <input name="username" required placeholder="username" />
          </label>
          <button type="submit" disabled={invite.isPending}>
            Invite
          </button>
          {invite.error && (
            <p role="alert" className="error">
              {describeError(invite.error)}
            </p>
          )}
          {invite.isSuccess && <output className="muted">Invited {invite.data.user.username}</output>}
        </form>
      )}
      {error && (
        <p role="alert" className="error">
          {describeError(error)}
        </p>
      )}
    </header>
  );
}
