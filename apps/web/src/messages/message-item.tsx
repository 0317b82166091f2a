import { useMutation } from '@tanstack/react-query';
import type { Message } from '@tether/protocol';
import { type FormEvent, useRef, useState } from 'react';
import { describeError } from '../errors';
import { useTRPC } from '../trpc';

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** One message; its author can edit or delete it in place. */
export function MessageItem({ message, own }: { message: Message; own: boolean }) {
  const trpc = useTRPC();
  const [editing, setEditingState] = useState(false);
  const editButton = useRef<HTMLButtonElement>(null);
  /** Leaving edit mode returns focus to the Edit button, not the page body. */
  const setEditing = (next: boolean) => {
    setEditingState(next);
    if (!next) requestAnimationFrame(() => editButton.current?.focus());
  };
  const edit = useMutation(trpc.messages.edit.mutationOptions({ onSuccess: () => setEditing(false) }));
  const remove = useMutation(trpc.messages.delete.mutationOptions());
  const error = edit.error ?? remove.error;

  function submitEdit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    edit.mutate({ messageId: message.id, body: String(new FormData(event.currentTarget).get('body')) });
  }

  return (
    <li className={own ? 'message own' : 'message'} data-seq={message.seq}>
      <div className="meta">
        <strong>{message.author.username}</strong>{' '}
        <time dateTime={message.createdAt.toISOString()}>{timeFormat.format(message.createdAt)}</time>
        {message.editedAt && <span className="muted"> (edited)</span>}
      </div>
      {editing ? (
        <form onSubmit={submitEdit} className="edit" aria-label="Edit message">
          <label className="visually-hidden" htmlFor={`edit-${message.id}`}>
            Edit message
          </label>
          <textarea
            id={`edit-${message.id}`}
            name="body"
            defaultValue={message.body}
            required
            maxLength={4000}
            // biome-ignore lint/a11y/noAutofocus: the user asked to edit this message; focus belongs in it.
            autoFocus
            onKeyDown={(event) => event.key === 'Escape' && setEditing(false)}
          />
          <button type="submit" disabled={edit.isPending}>
            Save
          </button>
          <button type="button" className="link" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <p className="body">{message.body}</p>
      )}
      {own && !editing && (
        <div className="actions">
          <button type="button" className="link" ref={editButton} onClick={() => setEditing(true)}>
            Edit
          </button>
          <button type="button" className="link" onClick={() => remove.mutate({ messageId: message.id })}>
            Delete
          </button>
        </div>
      )}
      {error && (
        <p role="alert" className="error">
          {describeError(error)}
        </p>
      )}
    </li>
  );
}
