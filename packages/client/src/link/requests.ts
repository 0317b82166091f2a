import type { TRPCClientOutgoingMessage, TRPCResponseMessage } from '@trpc/server/rpc';

import { callUserCode } from './call-user-code';

type Method = 'query' | 'mutation' | 'subscription';

/** How large a frame of calls may grow: a frame over the server's limits fails every call in it. */
export interface FrameLimits {
  /** Calls per frame. */
  maxCalls: number;
  /** UTF-8 bytes per frame, counted as 3 per UTF-16 unit (an upper bound); a single larger call goes alone. */
  maxBytes: number;
}

/** Well inside the server's defaults (200 calls, 1 MiB per message). */
export const DEFAULT_FRAME_LIMITS: FrameLimits = { maxCalls: 100, maxBytes: 512 * 1024 };

/** What a request's owner (the link) hears: the server's messages for it, then its end. */
export interface RequestCallbacks {
  /** A response message for this request, as the server sent it (not yet transformed). */
  message(message: TRPCResponseMessage): void;
  /** The socket it was sent on went away before its answer: it will not come. */
  lost(): void;
  /** A subscription's socket went away: it is sent again, from where it was, on the next one. */
  suspended(): void;
  /** The link ended for good (`error`): nothing more will come. */
  closed(error: Error): void;
  /** Nothing more will come (an answer, `stopped`, or an error was the last). */
  complete(): void;
}

interface Request {
  id: number;
  method: Method;
  path: string;
  /** The transformed input. */
  input: unknown;
  /** A subscription's resume point: the id of the last tracked item it received. */
  lastEventId: string | undefined;
  /** On the current socket: awaiting its answer (a query or mutation) or live (a subscription). */
  sent: boolean;
  callbacks: RequestCallbacks;
}

/** Where frames go: the connection, while it is open. */
export interface FrameSink {
  readonly isOpen: boolean;
  send(frame: string): boolean;
}

/**
 * The requests of one link, by id: queued while there is no socket and sent
 * once it opens; calls made in the same tick leave in one frame (no timer: a
 * microtask). Queries and mutations whose socket goes away are told so (the
 * link decides whether a keyed mutation is retried). Subscriptions are sent
 * again on every new socket, with the id of the last tracked item they
 * received as `lastEventId`, so they resume where they left off.
 */
export class Requests {
  readonly #requests = new Map<number, Request>();
  /** What the next flush sends, in the order it was asked: a flush never walks the live subscriptions. */
  #unsent: Request[] = [];
  #nextId = 0;
  #flushQueued = false;

  constructor(
    private readonly sink: FrameSink,
    private readonly limits: FrameLimits = DEFAULT_FRAME_LIMITS,
  ) {}

  get size(): number {
    return this.#requests.size;
  }

  /** Registers a request and sends it with whatever else is ready this tick; returns its id. */
  start(
    method: Method,
    path: string,
    input: unknown,
    lastEventId: string | undefined,
    callbacks: RequestCallbacks,
  ): number {
    this.#nextId += 1;
    const request: Request = {
      id: this.#nextId,
      method,
      path,
      input,
      lastEventId,
      sent: false,
      callbacks,
    };
    this.#requests.set(request.id, request);
    this.#unsent.push(request);
    this.#queueFlush();
    return request.id;
  }

  /** A new socket is open: everything unanswered goes out on it, subscriptions from where they were. */
  opened(): void {
    for (const request of this.#requests.values()) request.sent = false;
    this.#unsent = [...this.#requests.values()];
    this.#queueFlush();
  }

  /** The socket went away: answers owed on it will not come; subscriptions wait for the next one. */
  lost(): void {
    for (const request of [...this.#requests.values()]) {
      if (!request.sent) continue;
      request.sent = false;
      if (request.method === 'subscription') {
        callUserCode(() => request.callbacks.suspended());
        continue;
      }
      this.#requests.delete(request.id);
      callUserCode(() => request.callbacks.lost());
    }
  }

  /** Routes a message from the server to its request. */
  message(message: TRPCResponseMessage): void {
    if (typeof message.id !== 'number') return;
    const request = this.#requests.get(message.id);
    if (!request) return;
    const result = 'result' in message ? message.result : null;
    if (request.method === 'subscription' && result) {
      if (result.type === 'data' && result.id !== undefined) request.lastEventId = String(result.id);
      if (result.type !== 'stopped') {
        request.callbacks.message(message);
        return;
      }
    }
    this.#requests.delete(request.id);
    request.callbacks.message(message);
    request.callbacks.complete();
  }

  /** The link ended for good: every request hears `error`, and is forgotten. */
  close(error: Error): void {
    const requests = [...this.#requests.values()];
    this.#requests.clear();
    for (const request of requests) callUserCode(() => request.callbacks.closed(error));
  }

  /** A query or mutation sent on the current socket, its answer still owed. */
  awaitingAnswer(id: number): boolean {
    const request = this.#requests.get(id);
    return request !== undefined && request.method !== 'subscription' && request.sent;
  }

  /** Forgets a request: a query or mutation's answer is ignored, a live subscription is stopped on the server. */
  cancel(id: number): void {
    const request = this.#requests.get(id);
    if (!request) return;
    this.#requests.delete(request.id);
    // A query or mutation's answer is simply ignored; a live subscription is stopped on the server.
    if (request.method === 'subscription' && request.sent) {
      this.sink.send(JSON.stringify({ id: request.id, method: 'subscription.stop' }));
    }
  }

  #queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(this.#flushQueuedRequests);
  }

  /** Made once: a closure per flush is measurable on a small call. */
  readonly #flushQueuedRequests = (): void => {
    this.#flushQueued = false;
    this.#flush();
  };

  #flush(): void {
    const unsent = this.#unsent;
    this.#unsent = [];
    // Not sent now, they wait in #requests: the next socket's `opened` sends them all.
    if (!this.sink.isOpen) return;
    // Within the server's limits: a resubscription after a reconnect may be hundreds of calls.
    let batch: Request[] = [];
    let frame: string[] = [];
    let units = 0;
    for (const request of unsent) {
      // Cancelled or answered since it was queued, or already sent.
      if (request.sent || this.#requests.get(request.id) !== request) continue;
      const text = JSON.stringify(messageOf(request));
      const full = frame.length >= this.limits.maxCalls || (units + text.length + 1) * 3 > this.limits.maxBytes;
      if (full) {
        if (!this.#send(batch, frame)) return;
        batch = [];
        frame = [];
        units = 0;
      }
      batch.push(request);
      frame.push(text);
      units += text.length + 1;
    }
    this.#send(batch, frame);
  }

  /** Sends one frame of calls; false when the socket would not take it (they stay unsent). */
  #send(batch: Request[], frame: string[]): boolean {
    if (frame.length === 0) return true;
    if (!this.sink.send(frame.length === 1 ? (frame[0] as string) : `[${frame.join(',')}]`)) return false;
    for (const request of batch) request.sent = true;
    return true;
  }
}

function messageOf(request: Request): TRPCClientOutgoingMessage {
  const params = { path: request.path, input: request.input };
  return {
    id: request.id,
    method: request.method,
    params: request.lastEventId === undefined ? params : { ...params, lastEventId: request.lastEventId },
  };
}
