import { CloseCode, SLOW_DOWN_CLOSE_CODES } from '@tether/protocol/wire';
import { TRPCClientError } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import superjson from 'superjson';
import { fullJitterBackoff } from '../backoff';
import type { ReconnectOptions } from '../options';
import { endpoint } from './endpoint';
import type { OperationSink } from './operation-sink';
import { readServerSentEvents, type ServerSentEvent } from './sse-reader';

/** What an SSE subscription needs from the HTTP transport that runs it. */
export interface StreamHost {
  /** The tRPC endpoint, e.g. `http://127.0.0.1:3000/trpc`. */
  readonly url: string;
  readonly fetch: typeof globalThis.fetch;
  readonly reconnect: ReconnectOptions;
  readonly random: () => number;
  /** The request headers (the token); rejects when they cannot be had now (with no fresh token at all, the host ends the link). */
  headers(forceRefresh: boolean): Promise<Record<string, string>>;
  /** A request could not reach the server: the host probes until it can. */
  unreachable(): void;
  /** Runs `run` now if the server is reachable, else once it is; returns the function that forgets it. */
  whenReachable(run: () => void): () => void;
}

/** The server pings a quiet stream every 30 s: one silent for longer than this is dead. */
const SILENCE_MS = 45_000;

type Outcome = 'finished' | 'resume' | 'slow-down';

/** Answers that will not change by asking again: the subscription fails with them (408 and 429 are retried). */
const isFinalRefusal = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

/**
 * One subscription over SSE (the wire tRPC's `httpSubscriptionLink` reads),
 * on `fetch`: it resumes from the last tracked id it delivered (`Last-Event-ID`)
 * whenever its stream ends without `return`, with full-jitter backoff; a
 * `serialized-error` whose `data.closeCode` stands for a WebSocket close is
 * handled as that close would be (4401 refreshes the token, 1013/4429/4508
 * slow down, others resume); any other error is the subscription's own and ends it.
 */
export class SseSubscription {
  #lastEventId: string | undefined;
  #controller: AbortController | null = null;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #silence: ReturnType<typeof setTimeout> | undefined;
  #forgetWait: (() => void) | null = null;
  #attempt = 0;
  #forceRefresh = false;
  #stopped = false;

  constructor(
    private readonly host: StreamHost,
    private readonly path: string,
    private readonly input: unknown,
    lastEventId: string | undefined,
    private readonly sink: OperationSink,
  ) {
    this.#lastEventId = lastEventId;
    this.#waitForServer();
  }

  /** Closes the stream (the server ends its subscription when the request goes). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    clearTimeout(this.#silence);
    this.#forgetWait?.();
    this.#controller?.abort();
  }

  #waitForServer(): void {
    this.#forgetWait = this.host.whenReachable(() => {
      this.#forgetWait = null;
      void this.#open();
    });
  }

  async #open(): Promise<void> {
    const controller = new AbortController();
    this.#controller = controller;
    let headers: Record<string, string>;
    try {
      headers = await this.host.headers(this.#forceRefresh);
    } catch {
      // Tried again later (still asking for a fresh token); if there is none at all, the link ends and stops this.
      if (!this.#stopped) this.#settle('resume');
      return;
    }
    if (this.#stopped) return;
    this.#forceRefresh = false;
    const url = endpoint(this.host.url, this.path);
    if (this.input !== undefined) url.searchParams.set('input', JSON.stringify(superjson.serialize(this.input)));
    const resume: Record<string, string> =
      this.#lastEventId === undefined ? {} : { 'last-event-id': this.#lastEventId };
    // A proxy that holds the request gets the same bound as a socket that does not open.
    this.#watchSilence(controller, this.host.reconnect.connectTimeoutMs);
    let outcome: Outcome = 'resume';
    try {
      const response = await this.host.fetch(url, {
        headers: { ...headers, ...resume, accept: 'text/event-stream' },
        signal: controller.signal,
      });
      if (!response.ok || !response.body || !response.headers.get('content-type')?.startsWith('text/event-stream')) {
        await response.body?.cancel();
        if (isFinalRefusal(response.status)) return this.#refused(response.status);
        if (response.status === 408 || response.status === 429) return this.#settle('slow-down');
        // A proxy's error page (the server is down behind it), not the server's stream.
        return this.#unreachable();
      }
      this.#watchSilence(controller, SILENCE_MS);
      await readServerSentEvents(response.body, (event) => {
        this.#watchSilence(controller, SILENCE_MS);
        const next = this.#receive(event);
        if (next === undefined) return;
        outcome = next;
        controller.abort();
      });
    } catch {
      // Aborted by us (stopped, silent, or an outcome reached) or cut off: the outcome says which.
      // Whatever broke it (an event that did not parse included), this stream is done with: close it.
      const cutOff = !controller.signal.aborted;
      controller.abort();
      if (this.#stopped) return;
      if (cutOff) return this.#unreachable();
      if (outcome !== 'resume') return this.#settle(outcome);
    } finally {
      clearTimeout(this.#silence);
    }
    if (!this.#stopped) this.#settle(outcome);
  }

  /** Handles one event; returns how the stream ends when this event ends it. */
  #receive(event: ServerSentEvent): Outcome | undefined {
    switch (event.event) {
      case 'connected':
        this.#attempt = 0;
        this.sink.started();
        return undefined;
      case 'message': {
        // An empty `id:` marks an untracked item: the resume point stays where it was.
        const id = event.id === undefined || event.id === '' ? undefined : event.id;
        const value = superjson.deserialize(JSON.parse(event.data));
        if (id === undefined) {
          this.sink.data(value, undefined);
          return undefined;
        }
        this.#lastEventId = id;
        // A tracked item as the WebSocket wire carries it, so subscribers see one shape on both.
        this.sink.data({ id, data: value }, id);
        return undefined;
      }
      case 'return':
        this.sink.complete();
        return 'finished';
      case 'serialized-error':
        return this.#failed(event.data);
      default:
        return undefined; // `ping`, `restore-id`
    }
  }

  #failed(data: string): Outcome {
    const shape = superjson.deserialize(JSON.parse(data)) as { data?: { closeCode?: unknown } };
    const closeCode = shape.data?.closeCode;
    if (closeCode === CloseCode.Unauthorized) {
      this.#forceRefresh = true;
      return 'resume';
    }
    if (typeof closeCode === 'number' && closeCode !== CloseCode.Normal && closeCode !== CloseCode.UpgradeRequired) {
      return SLOW_DOWN_CLOSE_CODES.has(closeCode) ? 'slow-down' : 'resume';
    }
    this.sink.error(TRPCClientError.from<AnyTRPCRouter>({ error: shape as never }));
    return 'finished';
  }

  #settle(outcome: Outcome): void {
    if (outcome === 'finished') return;
    this.sink.suspended();
    const slowDown = outcome === 'slow-down' ? this.host.reconnect.slowDownAttempts : 0;
    const delay = fullJitterBackoff(this.#attempt + slowDown, this.host.reconnect, this.host.random);
    this.#attempt += 1;
    this.#retry = setTimeout(() => this.#waitForServer(), delay);
  }

  /** A refusal no retry can change (a proxy's 404, 414, 401…): the subscription fails. */
  #refused(status: number): void {
    if (this.#stopped) return;
    const error = new Error(`${this.path}: the subscription's stream was refused with HTTP ${status}`);
    this.sink.error(TRPCClientError.from<AnyTRPCRouter>(error));
  }

  #unreachable(): void {
    if (this.#stopped) return;
    this.sink.suspended();
    this.host.unreachable();
    this.#waitForServer();
  }

  #watchSilence(controller: AbortController, ms: number): void {
    clearTimeout(this.#silence);
    this.#silence = setTimeout(() => controller.abort(), ms);
  }
}
