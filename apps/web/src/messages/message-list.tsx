import type { Message } from '@tether/protocol';
import { useEffect, useLayoutEffect, useRef } from 'react';
import { MessageItem } from './message-item';
import type { PendingSend } from './timeline';

interface MessageListProps {
  messages: Message[];
  pending: PendingSend[];
  selfId: string;
  hasOlder: boolean;
  loadingOlder: boolean;
  /** Why the last attempt to load older messages failed, if it did. */
  olderError: string | null;
  loadOlder: () => void;
  onDiscard: (key: string) => void;
}

/**
 * The conversation, oldest at the top. Scrolling to the top loads older
 * messages (keeping the view where it was); new messages keep the view at
 * the bottom if it was there.
 */
export function MessageList(props: MessageListProps) {
  const { messages, pending, selfId, hasOlder, loadingOlder, olderError, loadOlder, onDiscard } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const heightBefore = useRef(0);
  const firstSeq = messages[0]?.seq;

  // Older messages were prepended: keep the same messages in view.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    if (heightBefore.current && !atBottom.current) element.scrollTop += element.scrollHeight - heightBefore.current;
    heightBefore.current = element.scrollHeight;
  }, [firstSeq]);

  // New messages at the bottom: follow them if the reader was at the bottom.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (element && atBottom.current) element.scrollTop = element.scrollHeight;
    if (element) heightBefore.current = element.scrollHeight;
  });

  useEffect(() => {
    const target = sentinel.current;
    if (!target || !hasOlder) return;
    const observer = new IntersectionObserver((entries) => {
      // After a failure, loading older waits for the reader's click rather than retrying in a loop.
      if (entries.some((entry) => entry.isIntersecting) && !loadingOlder && !olderError) loadOlder();
    });
    observer.observe(target);
    return () => observer.disconnect();
  }, [hasOlder, loadingOlder, olderError, loadOlder]);

  return (
    <div
      className="messages"
      ref={scroller}
      onScroll={(event) => {
        const element = event.currentTarget;
        atBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
      }}
    >
      <div ref={sentinel} />
      {hasOlder && (
        <button type="button" className="link older" onClick={loadOlder} disabled={loadingOlder}>
          {loadingOlder ? 'Loading…' : olderError ? 'Retry loading older messages' : 'Load older messages'}
        </button>
      )}
      {olderError && (
        <p role="alert" className="error older">
          {olderError}
        </p>
      )}
      <ol role="log" aria-label="Messages" className="message-log">
        {messages.map((message) => (
          <MessageItem key={message.id} message={message} own={message.author.id === selfId} />
        ))}
        {pending.map((send) => (
          <li key={send.key} className={`message own pending ${send.state}`} aria-live="polite">
            <p className="body">{send.body}</p>
            {send.state === 'sending' ? (
              <span className="muted">Sending…</span>
            ) : (
              <span role="alert" className="error">
                Not sent: {send.error}{' '}
                <button type="button" className="link" onClick={() => onDiscard(send.key)}>
                  Dismiss
                </button>
              </span>
            )}
          </li>
        ))}
      </ol>
    </div>
  );
}
