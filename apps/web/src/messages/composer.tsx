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

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing) return;
    event.preventDefault();
    const body = event.currentTarget.value;
    if (body.trim().length === 0) return;
    onSend(body);
    event.currentTarget.value = '';
    lastTypingSignal.current = 0;
  }

  return (
    <div className="composer">
      <label htmlFor={`composer-${roomId}`} className="visually-hidden">
        Message
      </label>
      <textarea
        id={`composer-${roomId}`}
        placeholder="Write a message. Enter sends, Shift+Enter adds a line."
        rows={2}
        maxLength={4000}
        onKeyDown={onKeyDown}
        onInput={signalTyping}
      />
    </div>
  );
}
