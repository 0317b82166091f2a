/** One server-sent event: `event` is `message` unless the stream named it; `id` is absent when no `id:` line came. */
export interface ServerSentEvent {
  event: string;
  id: string | undefined;
  data: string;
}

/**
 * Reads a `text/event-stream` body (the WHATWG format: blocks of `field:
 * value` lines ended by a blank line, `:` comments) and calls `onEvent` for
 * each event. Resolves when the body ends; rejects when it breaks off. A
 * reader of its own, not EventSource: it sends headers (the token), reads
 * through `fetch` on Node and in browsers alike, and the caller decides when
 * and from where to reconnect.
 */
export async function readServerSentEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: ServerSentEvent) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event: ServerSentEvent = { event: 'message', id: undefined, data: '' };
  let hasData = false;
  const line = (text: string) => {
    if (text === '') {
      if (hasData || event.event !== 'message') onEvent(event);
      event = { event: 'message', id: undefined, data: '' };
      hasData = false;
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event.event = value;
    else if (field === 'id') event.id = value;
    else if (field === 'data') {
      event.data = hasData ? `${event.data}\n${value}` : value;
      hasData = true;
    }
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let start = 0;
      for (let end = buffer.indexOf('\n', start); end !== -1; end = buffer.indexOf('\n', start)) {
        line(buffer.slice(start, end).replace(/\r$/, ''));
        start = end + 1;
      }
      buffer = buffer.slice(start);
    }
  } finally {
    reader.releaseLock();
  }
}
