import { CloseCode } from '@tether/protocol/wire';
import { httpBatchLink, TRPCClientError } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import superjson from 'superjson';
import { fullJitterBackoff } from '../backoff';
import type { ReconnectOptions } from '../options';
import type { TransportStatus } from '../status';
import { callUserCode } from './call-user-code';
import { endpoint } from './endpoint';
import { ConnectionLostError } from './errors';
import type { OperationRequest } from './link-operation';
import type { CarriedOperation, OperationSink } from './operation-sink';
import { SseSubscription, type StreamHost } from './sse-subscription';

/** Calls per HTTP batch, well inside the server's default limit (200), as on a WebSocket frame. */
const MAX_CALLS_PER_REQUEST = 100;
/** Below what proxies accept in a request line (nginx: 8 KiB); a longer GET batch is split. */
const MAX_URL_LENGTH = 4_000;

export interface HttpTransportOptions {
  /** The tRPC endpoint, e.g. `http://127.0.0.1:3000/trpc`. */
  url: string;
  fetch: typeof globalThis.fetch;
  reconnect: ReconnectOptions;
  random: () => number;
  now: () => number;
  /**
   * The request headers: the token, asked before every request; `forceRefresh`
   * after the server refused it. null after a refusal: no fresh token can be had (the link ends).
   */
  headers(forceRefresh: boolean): Promise<Record<string, string> | null>;
}

export interface HttpTransportEvents {
  changed(status: TransportStatus): void;
  /** The server refused the token and no fresh one could be had: the link ends. */
  unauthorized(): void;
}

function closeCodeOf(error: TRPCClientError<AnyTRPCRouter>): unknown {
  const data: unknown = error.data;
  return typeof data === 'object' && data !== null && 'closeCode' in data ? data.closeCode : undefined;
}

/**
 * A failure that says nothing of the procedure: no tRPC error shape came back
 * (the network, a proxy's page), or the server is restarting (closeCode
 * 1012). Either way the call was not run and the server must be found again.
 * (A procedure's own SERVICE_UNAVAILABLE, a store outage, is its answer.)
 */
function isUnreachable(error: TRPCClientError<AnyTRPCRouter>): boolean {
  const data: unknown = error.data;
  return data === undefined || data === null || closeCodeOf(error) === CloseCode.ServiceRestart;
}

/**
 * The fallback when WebSocket cannot be had: queries and mutations through
 * tRPC's own HTTP batching, subscriptions as SSE streams (`sse-subscription.ts`).
 * It keeps one state for all of them: `connected` while the server answers,
 * and when a request cannot reach it, `reconnecting` with full-jitter
 * backoff, probing `connection.ping` until it answers; meanwhile requests
 * wait, as they wait for a socket. A request refused for its token (closeCode
 * 4401) is sent again once after `headers(true)`.
 */
export class HttpTransport implements StreamHost {
  #status: TransportStatus = { state: 'connecting', lastCloseCode: null, lastCloseReason: '' };
  #waiting = new Set<() => void>();
  #probe: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;
  #refresh: Promise<Record<string, string>> | null = null;
  #active = false;
  #opId = 0;
  /** Probes in flight are aborted when the transport stops carrying (dispose, back to WebSocket). */
  #probes = new AbortController();
  readonly #batch;

  constructor(
    private readonly options: HttpTransportOptions,
    private readonly events: HttpTransportEvents,
  ) {
    this.#batch = httpBatchLink<AnyTRPCRouter>({
      url: options.url,
      transformer: superjson,
      maxItems: MAX_CALLS_PER_REQUEST,
      maxURLLength: MAX_URL_LENGTH,
      fetch: options.fetch,
      headers: () => this.headers(false),
    })({});
  }

  get url(): string {
    return this.options.url;
  }
  get fetch(): typeof globalThis.fetch {
    return this.options.fetch;
  }
  get reconnect(): ReconnectOptions {
    return this.options.reconnect;
  }
  get random(): () => number {
    return this.options.random;
  }
  get status(): TransportStatus {
    return this.#status;
  }

  /**
   * One request to `connection.ping`: true when the server itself answered
   * through HTTP (tRPC's `{"result":…}`; a captive portal's redirect or page is not an answer).
   */
  async reachable(): Promise<boolean> {
    try {
      const response = await this.options.fetch(endpoint(this.options.url, 'connection.ping'), {
        redirect: 'manual',
        signal: AbortSignal.any([this.#probes.signal, AbortSignal.timeout(this.options.reconnect.connectTimeoutMs)]),
      });
      if (!response.ok) {
        await response.body?.cancel();
        return false;
      }
      const body: unknown = await response.json();
      return typeof body === 'object' && body !== null && 'result' in body;
    } catch {
      return false;
    }
  }

  /** Carries operations from now on (the server was just found reachable). */
  activate(): void {
    this.#active = true;
    this.#attempt = 0;
    this.#set({ state: 'connected', lastCloseCode: null, lastCloseReason: '' });
    this.#wakeWaiting();
  }

  /** Carries nothing more: the probe stops (operations were moved off first). */
  deactivate(): void {
    this.#active = false;
    clearTimeout(this.#probe);
    this.#probe = undefined;
    this.#waiting.clear();
    this.#probes.abort();
    this.#probes = new AbortController();
  }

  /** Cuts a probe's backoff wait short. */
  reconnectNow(): void {
    if (!this.#active || this.#probe === undefined || this.#status.state !== 'reconnecting') return;
    if (this.#status.retryAt === null) return;
    clearTimeout(this.#probe);
    this.#probe = undefined;
    void this.#runProbe(this.#status.lastCloseReason);
  }

  headers(forceRefresh: boolean): Promise<Record<string, string>> {
    if (forceRefresh) return this.#refreshed();
    return this.#refresh ?? this.options.headers(false).then((headers) => headers ?? {});
  }

  unreachable(): void {
    if (!this.#active || this.#status.state !== 'connected') return;
    this.#scheduleProbe('the server did not answer over HTTP');
  }

  whenReachable(run: () => void): () => void {
    if (this.#active && this.#status.state === 'connected') {
      run();
      return () => {};
    }
    this.#waiting.add(run);
    return () => this.#waiting.delete(run);
  }

  /** A query or mutation, sent when the server is reachable. */
  call(request: OperationRequest, sink: OperationSink): CarriedOperation {
    this.#opId += 1;
    const op = { ...request, id: this.#opId, context: {}, signal: null };
    let inFlight = false;
    let refreshed = false;
    let cancelled = false;
    let unsubscribe = () => {};
    let forget = () => {};
    const send = () => {
      if (cancelled) return;
      inFlight = true;
      const subscription = this.#batch({ op, next: () => sink as never }).subscribe({
        next: ({ result }) => {
          if (!cancelled && 'data' in result) sink.data(result.data, undefined);
        },
        complete: () => {
          if (!cancelled) sink.complete();
        },
        error: (error) => {
          // A cancelled call's abort is no news about the server.
          if (cancelled) return;
          if (isUnreachable(error)) {
            this.unreachable();
            sink.error(TRPCClientError.from(new ConnectionLostError(op.path)));
          } else if (closeCodeOf(error) === CloseCode.Unauthorized && !refreshed) {
            // Refused before the procedure ran: safe to send again, once, with a fresh token.
            refreshed = true;
            inFlight = false;
            this.#refreshed().then(
              () => {
                forget = this.whenReachable(send);
              },
              () => {
                if (!cancelled) sink.error(error);
              },
            );
          } else sink.error(error);
        },
      });
      unsubscribe = () => subscription.unsubscribe();
    };
    forget = this.whenReachable(send);
    return {
      withdraw: () => {
        if (inFlight) return false;
        forget();
        return true;
      },
      cancel: () => {
        cancelled = true;
        forget();
        unsubscribe();
      },
    };
  }

  /** A subscription as an SSE stream, resumed from `lastEventId`. */
  subscribe(request: OperationRequest, lastEventId: string | undefined, sink: OperationSink): CarriedOperation {
    const stream = new SseSubscription(this, request.path, request.input, lastEventId, sink);
    return {
      withdraw: () => {
        stream.stop();
        return true;
      },
      cancel: () => stream.stop(),
    };
  }

  /** A fresh token, asked once however many requests were refused together. */
  #refreshed(): Promise<Record<string, string>> {
    this.#refresh ??= this.options.headers(true).then(
      (headers) => {
        this.#refresh = null;
        if (headers) return headers;
        callUserCode(() => this.events.unauthorized());
        throw new Error('the server refused the token and getToken has no fresh one');
      },
      (error: unknown) => {
        // getToken failed this time (its own server unreachable?): the request fails, the link goes on.
        this.#refresh = null;
        throw error;
      },
    );
    return this.#refresh;
  }

  #scheduleProbe(reason: string): void {
    const delay = fullJitterBackoff(this.#attempt, this.options.reconnect, this.options.random);
    this.#attempt += 1;
    this.#set({
      state: 'reconnecting',
      attempt: this.#attempt,
      retryAt: this.options.now() + delay,
      lastCloseCode: null,
      lastCloseReason: reason,
    });
    this.#probe = setTimeout(() => {
      this.#probe = undefined;
      void this.#runProbe(reason);
    }, delay);
  }

  async #runProbe(reason: string): Promise<void> {
    this.#set({ ...this.#status, retryAt: null } as TransportStatus);
    const probes = this.#probes;
    const ok = await this.reachable();
    // Stopped meanwhile (and maybe started again, with a probe chain of its own).
    if (!this.#active || probes !== this.#probes || probes.signal.aborted) return;
    if (ok) this.activate();
    else this.#scheduleProbe(reason);
  }

  #wakeWaiting(): void {
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const run of waiting) callUserCode(run);
  }

  #set(status: TransportStatus): void {
    this.#status = status;
    callUserCode(() => this.events.changed(status));
  }
}
