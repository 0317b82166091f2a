import type { IncomingMessage, ServerResponse } from 'node:http';
import { CloseCode } from '@tether/protocol';
import type { TRPCError } from '@trpc/server';
import { isEphemeral, sseData } from '../calls/frames';
import { runSubscription } from '../calls/run-subscription';
import { drainedOf } from '../session/drained';
import type { Session, SessionPort, Subscription } from '../session/session';
import type { TransportDeps } from '../session/transport-deps';
import { CLOSE_GRACE_MS } from '../websocket/close-hard';
import { refuseSse, SSE_CONNECTED, SSE_HEADERS, SSE_PING, SSE_RETURN, sessionEnd, sseErrorEvent } from './sse-wire';

/** The resume point an SSE client sends: EventSource's header, or tRPC's query parameters. */
export function lastEventIdOf(req: IncomingMessage, url: URL): string | null {
  const header = req.headers['last-event-id'];
  return (
    (typeof header === 'string' ? header : null) ??
    url.searchParams.get('lastEventId') ??
    url.searchParams.get('Last-Event-Id')
  );
}

/**
 * One SSE stream (tRPC's `httpSubscriptionLink` wire): a session of its own
 * with one subscription, under the same limits, expiry and revocations as a
 * WebSocket. Where a WebSocket would close, the stream sends a
 * `serialized-error` whose `data.closeCode` says which close it stands for.
 */
export class SseConnection implements SessionPort {
  session!: Session<unknown>;
  #subscription: Subscription | null = null;
  #closeCode: number = CloseCode.Normal;
  #lastEventId: string | null;
  /** The latest ephemeral item waiting for a lagging reader, serialized (`undefined`: none). */
  #waitingEphemeral: { data: string } | undefined = undefined;

  constructor(
    private readonly deps: TransportDeps,
    private readonly res: ServerResponse,
    lastEventId: string | null,
  ) {
    // An id with these characters cannot be sent back in an `id:` field.
    this.#lastEventId = lastEventId && !/[\0\n\r]/.test(lastEventId) ? lastEventId : null;
  }

  end(code: CloseCode, reason: string): void {
    this.#closeCode = code;
    if (!this.#subscription) {
      this.res.destroy();
      return;
    }
    this.#subscription.end(sessionEnd(code, reason));
    // A reader that stopped reading never takes the typed end: cut it after a grace, as a WebSocket is.
    setTimeout(() => this.res.destroy(), CLOSE_GRACE_MS).unref();
  }

  get bufferedBytes(): number {
    return this.res.writableLength;
  }

  bytesSent = 0;

  drained(): Promise<void> {
    return drainedOf(this.res, this.bufferedBytes);
  }

  ping(): void {
    this.#write(SSE_PING);
  }

  async serve(path: string, input: unknown, token: string | null): Promise<void> {
    const { sessions, router } = this.deps;
    const refuse = (error: TRPCError, closeCode?: CloseCode) => {
      refuseSse(this.res, router, error, path, closeCode);
      sessions.close(this.session, closeCode ?? CloseCode.Normal);
    };
    this.res.once('close', () => {
      if (this.#closeCode === CloseCode.Normal && !this.res.writableEnded) this.#closeCode = CloseCode.GoingAway;
      this.#subscription?.end();
      sessions.close(this.session, this.#closeCode);
    });
    if (token) {
      try {
        await sessions.signIn(this.session, token);
      } catch (cause) {
        const error = cause as TRPCError;
        if (error.code === 'TOO_MANY_REQUESTS') {
          this.deps.onLimit(this.session, CloseCode.TryAgainLater);
          return refuse(error, CloseCode.TryAgainLater);
        }
        this.deps.onCallError(error, path, 'subscription');
        // A bad token is 4401 (refresh it); a store outage 1011 (retry later), as on a WebSocket.
        return refuse(error, error.code === 'UNAUTHORIZED' ? CloseCode.Unauthorized : CloseCode.InternalError);
      }
    }
    if (this.session.ended) return;
    let subscription: Subscription;
    try {
      subscription = sessions.admitSubscription(this.session, 0);
    } catch (cause) {
      // Like a WebSocket subscription over its limit: the call fails, nothing closes.
      return refuse(cause as TRPCError);
    }
    this.#subscription = subscription;
    this.res.writeHead(200, SSE_HEADERS);
    // The headers leave now: `connected` waits for the procedure, the client's connect timeout must not.
    this.res.flushHeaders();
    const { transformer } = router._def._config;
    await runSubscription(
      this.deps,
      { session: this.session, subscription, path, input },
      {
        // Once the procedure has started, as a WebSocket's `started`: a refused one (FORBIDDEN) never says it.
        started: () => this.#write(SSE_CONNECTED),
        data: (value) => {
          const { id, data } = sseData(transformer, value, this.deps.metrics);
          if (isEphemeral(value)) {
            // Only the latest ephemeral item is kept for a reader that lags: it waits, and replaces any that waited.
            if (this.bufferedBytes > this.deps.limits.ephemeralBufferBytes) {
              this.#holdEphemeral(data);
              return false;
            }
            this.#waitingEphemeral = undefined;
          }
          this.#write(this.#event(id, data));
          return true;
        },
        error: (error) => {
          this.deps.metrics.call('sse', path, error.code);
          try {
            this.#write(sseErrorEvent(router, error, { path, input, ctx: this.session.context }));
          } finally {
            // The stream ends even when its last event cannot be built.
            this.res.end();
          }
        },
        stopped: () => {
          this.deps.metrics.call('sse', path, 'ok');
          this.#write(SSE_RETURN);
          this.res.end();
        },
      },
    );
  }

  /**
   * One data event. An untracked item after tracked ones must not move the
   * client's resume point: EventSource gives an event without `id` the last
   * id it saw, so the id is cleared for it and restored by an event no one listens to.
   */
  #event(id: string | undefined, data: string): string {
    if (id !== undefined) {
      this.#lastEventId = id;
      return `id: ${id}\ndata: ${data}\n\n`;
    }
    if (this.#lastEventId === null) return `data: ${data}\n\n`;
    return `id: \ndata: ${data}\n\nevent: restore-id\nid: ${this.#lastEventId}\ndata: \n\n`;
  }

  #write(text: string): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    this.res.write(text);
    // Writing is this stream's sign of life: the heartbeat pings only a stream that was quiet.
    this.session.lastSeenAt = performance.now();
    const bytes = Buffer.byteLength(text);
    this.bytesSent += bytes;
    this.deps.metrics.bytesOut('sse', bytes);
    this.deps.metrics.sendBuffer(this.res.writableLength);
    if (this.res.writableLength > this.deps.limits.sendBufferBytes) {
      this.deps.metrics.limitExceeded('send_buffer');
      this.deps.onLimit(this.session, CloseCode.SlowConsumer);
      this.end(CloseCode.SlowConsumer, 'send buffer over its limit: reconnect and resume');
    }
  }

  #holdEphemeral(data: string): void {
    if (this.#waitingEphemeral === undefined) {
      this.res.once('drain', () => {
        const held = this.#waitingEphemeral;
        this.#waitingEphemeral = undefined;
        // Framed now, so its resume point is the one in force when it is sent.
        if (held) this.#write(this.#event(undefined, held.data));
      });
    }
    this.#waitingEphemeral = { data };
  }
}
