import { type KeyboardEvent, useRef } from 'react';
import { useTRPCClient } from '../trpc';

/** Signals "typing" at most this often while the user types. */
const TYPING_SIGNAL_MS = 3_000;

/** Enter sends, Shift+Enter starts a new line. */
export function Composer({ roomId, onSend }: { roomId: string; onSend: (body: string) => void }) {
  const api = useTRPCClient();
  const lastTypingSignal = useRef(0);

  function signalTyping() {
    const now = Date.now();
    if (now - lastTypingSignal.current < TYPING_SIGNAL_MS) return;
    lastTypingSignal.current = now;
    api.rooms.typing.mutate({ roomId }).catch(() => {});
  }

  const box = useRef<HTMLTextAreaElement>(null);
  function submit() {
    const field = box.current;
    if (!field || field.value.trim().length === 0) return;
    onSend(field.value);
    field.value = '';
    lastTypingSignal.current = 0;
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing) return;
    event.preventDefault();
    submit();
  }

  return (
    <form
      className="composer"
      aria-label="Write a message"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
        box.current?.focus();
      }}
    >
      <label htmlFor={`composer-${roomId}`} className="visually-hidden">
        Message
      </label>
      <textarea
        ref={box}
        id={`composer-${roomId}`}
        placeholder="Write a message. Enter sends, Shift+Enter adds a line."
        rows={2}
        maxLength={4000}
        onKeyDown={onKeyDown}
        onInput={signalTyping}
      />
      <button type="submit">Send</button>
    </form>
  );
}
