import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { RoomVisibility } from '@tether/protocol';
import type { FormEvent } from 'react';
import { describeError } from '../errors';
import { randomKey } from '../random-key';
import { useTRPC } from '../trpc';

export function CreateRoomForm({ onCreated }: { onCreated: (roomId: string) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const create = useMutation(
    trpc.rooms.create.mutationOptions({
      onSuccess: async (room) => {
        await queryClient.invalidateQueries({ queryKey: trpc.rooms.list.queryKey() });
        onCreated(room.id);
      },
    }),
  );
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    create.mutate({
      name: String(form.get('name')),
      visibility: form.get('private') ? ('private' satisfies RoomVisibility) : 'public',
      idempotencyKey: randomKey('web'),
    });
    event.currentTarget.reset();
  }
  return (
    <form onSubmit={submit} className="create-room" aria-label="Create a room">
      <label>
        New room
        <input name="name" required maxLength={64} placeholder="e.g. general" />
      </label>
      <label className="inline">
        <input type="checkbox" name="private" /> Private
      </label>
      <button type="submit" disabled={create.isPending}>
        Create
      </button>
      {create.error && (
        <p role="alert" className="error">
          {describeError(create.error)}
        </p>
      )}
    </form>
  );
}
