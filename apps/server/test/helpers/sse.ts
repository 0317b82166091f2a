import { type ClientRequest, type IncomingMessage, request } from 'node:http';
import superjson from 'superjson';

/** One server-sent event as tRPC's SSE wire writes it. */
export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

export interface SseStream {
  /** The HTTP status; 200 when the stream opened. */
  status: number;
  /** The body, when the server answered with JSON instead of a stream. */
  body: string;
  response: IncomingMessage;
  request: ClientRequest;
  /** The next event matching `predicate` (events already received count). */
  next(predicate?: (event: SseEvent) => boolean): Promise<SseEvent>;
  /** Resolves when the server ends the stream or cuts the socket. */
  ended: Promise<void>;
  close(): void;
}

/**
 * A raw SSE subscription to `path` with tRPC's query string (`input` as
 * superjson), for wire tests: no EventSource logic in the way, and the reader
 * can stop reading (`response.pause()`).
 */
export function openSse(
  baseUrl: string,
  path: string,
  input: unknown,
  options: { token?: string; lastEventId?: string; localAddress?: string } = {},
): Promise<SseStream> {
  const url = new URL(`/trpc/${path}`, baseUrl);
  url.searchParams.set('input', JSON.stringify(superjson.serialize(input)));
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, localAddress: options.localAddress }, (res) => {
      const received: SseEvent[] = [];
      const waiters: Array<{ predicate: (event: SseEvent) => boolean; resolve: (event: SseEvent) => void }> = [];
      let buffer = '';
      let body = '';
      const ended = new Promise<void>((done) => {
        res.once('close', done);
        res.once('end', done);
      });
      res.setEncoding('utf8');
      const deliver = (event: SseEvent) => {
        const waiter = waiters.find((w) => w.predicate(event));
        if (!waiter) return received.push(event);
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      };
      res.on('data', (chunk: string) => {
        if (res.statusCode !== 200) {
          body += chunk;
          return;
        }
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!block.trim()) continue;
          const event: SseEvent = { event: 'message', data: '' };
          for (const line of block.split('\n')) {
            const colon = line.indexOf(': ');
            const field = colon === -1 ? line.replace(/:$/, '') : line.slice(0, colon);
            const value = colon === -1 ? '' : line.slice(colon + 2);
            if (field === 'event') event.event = value;
            else if (field === 'data') event.data = value;
            else if (field === 'id') event.id = value;
          }
          deliver(event);
        }
      });
      const stream: SseStream = {
        status: res.statusCode ?? 0,
        get body() {
          return body;
        },
        response: res,
        request: req,
        next(predicate = () => true) {
          const index = received.findIndex(predicate);
          if (index >= 0) return Promise.resolve(received.splice(index, 1)[0] as SseEvent);
          return new Promise((resolveEvent) => waiters.push({ predicate, resolve: resolveEvent }));
        },
        ended,
        close: () => req.destroy(),
      };
      if (res.statusCode === 200) resolve(stream);
      else res.once('end', () => resolve(stream));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A `serialized-error` event's tRPC error shape. */
export function sseError(event: SseEvent): { message: string; data: { code: string; closeCode: number | null } } {
  return superjson.deserialize(JSON.parse(event.data));
}
