import { type Operation, TRPCClientError, type TRPCLink } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { type Observer, observable } from '@trpc/server/observable';
import type { TRPCResponseMessage } from '@trpc/server/rpc';
import type { ConnectionStatus, Transport } from '../status';
import { callUserCode } from './call-user-code';
import { Connection, type ConnectionOptions } from './connection';
import { ClientClosedError } from './errors';
import { HttpTransport } from './http-transport';
import { type Carriers, LinkOperation, type OperationConsumer, type OperationRequest } from './link-operation';
import { DEFAULT_FRAME_LIMITS, type FrameLimits, Requests } from './requests';

export { ClientClosedError, ConnectionLostError } from './errors';

/** While on HTTP, WebSocket is tried again at least this often (jittered): a proxy that starts allowing it is noticed soon. */
const BACKGROUND_RETRY_MAX_MS = 10_000;

/** Where the link goes when WebSocket is blocked. */
export interface HttpFallbackOptions {
  /** The tRPC endpoint over HTTP, e.g. `http://127.0.0.1:3000/trpc`. */
  url: string;
  /** WebSocket attempts in a row that end without a word from the server before HTTP is tried. */
  afterAttempts: number;
  fetch: typeof globalThis.fetch;
  /** The request headers (the token); `forceRefresh` after the server refused it; null: no fresh token (the link ends). */
  headers(forceRefresh: boolean): Promise<Record<string, string> | null>;
}

export interface TetherLinkOptions extends ConnectionOptions {
  /** null: WebSocket only. */
  fallback: HttpFallbackOptions | null;
  /** How many calls, and how many bytes, one frame may carry. */
  frames?: FrameLimits;
}

export interface TetherLink<TRouter extends AnyTRPCRouter> {
  /** The link for `createTRPCClient({ links: [..., link] })`. */
  readonly link: TRPCLink<TRouter>;
  readonly state: ConnectionStatus;
  /** Calls `listener` on every change of state; returns the unsubscribe function. */
  onStateChange(listener: (state: ConnectionStatus) => void): () => void;
  /**
   * Starts an operation for `consumer` without tRPC's observables (the
   * client's fast path); null when the link has ended (the consumer heard why).
   */
  start(request: OperationRequest, consumer: OperationConsumer): LinkOperation | null;
  reconnectNow(): void;
  /** Closes the socket and every stream; requests still waiting are forgotten. */
  dispose(): void;
}

type ResultObserver = Observer<
  {
    result:
      | { type: 'started' }
      | { type: 'data'; data: unknown; id?: string }
      | { type: 'state'; state: 'connecting'; error: null };
    context: unknown;
  },
  TRPCClientError<AnyTRPCRouter>
>;

/**
 * A tRPC link that owns one WebSocket and speaks tRPC's wire with superjson
 * (the connection, `connection.ts`, keeps the socket; the requests,
 * `requests.ts`, keep what was asked), and falls back to HTTP batches and
 * SSE streams (`http-transport.ts`) when WebSocket is blocked: after a few
 * attempts in a row that end without a word from the server, if the server
 * answers over HTTP. The WebSocket keeps trying in the background, and once a
 * socket stays open (`stableAfterMs`) every subscription moves back to it.
 * Either way a subscription resumes from the last tracked id it delivered,
 * so a move loses and repeats nothing. No timer stands before a send.
 */
export function createTetherLink<TRouter extends AnyTRPCRouter>(options: TetherLinkOptions): TetherLink<TRouter> {
  const listeners = new Set<(state: ConnectionStatus) => void>();
  const operations = new Set<LinkOperation>();
  let transport: Transport = 'websocket';
  let probing = false;
  /**
   * HTTP answered when this many WebSocket attempts in a row had failed
   * unheard: if the very next one fails unheard too, WebSocket is blocked.
   */
  let httpAnsweredAt: number | null = null;

  const connection: Connection = new Connection(options, {
    opened: () => requests.opened(),
    message: (message) => requests.message(message as TRPCResponseMessage),
    lost: () => requests.lost(),
    stable: () => {
      if (transport === 'http') use('websocket');
    },
    changed: (state) => {
      if (state.state === 'closed') return end();
      if (transport !== 'websocket') return;
      publish();
      // A wait has just begun: the attempt before it failed.
      if (state.state === 'reconnecting' && state.retryAt !== null) void fallBackIfBlocked();
    },
  });
  const requests = new Requests(connection, options.frames ?? DEFAULT_FRAME_LIMITS);
  const fallback = options.fallback;
  const http =
    fallback &&
    new HttpTransport(
      {
        url: fallback.url,
        fetch: fallback.fetch,
        reconnect: options.reconnect,
        random: options.random ?? Math.random,
        now: options.now ?? Date.now,
        headers: fallback.headers,
      },
      {
        changed: () => {
          if (transport === 'http') publish();
        },
        unauthorized: () => connection.close('unauthorized'),
      },
    );

  const carriers: Carriers = {
    get transport() {
      return transport;
    },
    requests,
    http,
    operations,
  };

  function state(): ConnectionStatus {
    const current =
      transport === 'http' && http && connection.status.state !== 'closed' ? http.status : connection.status;
    return { ...current, transport };
  }

  function publish(): void {
    const current = state();
    // One listener's failure spares the others.
    for (const listener of [...listeners]) callUserCode(() => listener(current));
  }

  /**
   * Moves to HTTP when WebSocket keeps failing unheard while the server
   * answers over HTTP: after `afterAttempts` such failures HTTP is probed,
   * and if it answers, the next socket is tried at once; if that one fails
   * unheard too, WebSocket is blocked. (A server coming back from a restart
   * answers both, so its clients stay on WebSocket.)
   */
  async function fallBackIfBlocked(): Promise<void> {
    if (!http || !fallback || probing) return;
    const unheard = connection.unheardAttempts;
    const answeredAt = httpAnsweredAt;
    httpAnsweredAt = null;
    if (answeredAt !== null && unheard === answeredAt + 1) return use('http');
    if (unheard < fallback.afterAttempts) return;
    probing = true;
    const reachable = await http.reachable();
    probing = false;
    if (!reachable || transport !== 'websocket' || connection.status.state !== 'reconnecting') return;
    if (connection.unheardAttempts !== unheard) return;
    httpAnsweredAt = unheard;
    connection.reconnectNow();
  }

  function use(next: Transport): void {
    transport = next;
    connection.capRetries(next === 'http' ? BACKGROUND_RETRY_MAX_MS : null);
    if (next === 'http') http?.activate();
    else http?.deactivate();
    for (const operation of [...operations]) operation.move();
    publish();
  }

  function end(): void {
    http?.deactivate();
    const error = new ClientClosedError(connection.status.state === 'closed' ? connection.status.reason : 'closed');
    requests.close(error);
    for (const operation of [...operations]) operation.closed(error);
    publish();
  }

  const link: TRPCLink<TRouter> =
    () =>
    ({ op }) =>
      observable((observer) => {
        const status = connection.status;
        if (status.state === 'closed') {
          observer.error(TRPCClientError.from(new ClientClosedError(status.reason)));
          return;
        }
        connection.start();
        const operation = new LinkOperation(carriers, op, new ObserverConsumer(observer as ResultObserver, op));
        const onAbort = () => {
          operation.cancel();
          observer.complete();
        };
        if (op.signal?.aborted) onAbort();
        else op.signal?.addEventListener('abort', onAbort, { once: true });
        return () => {
          op.signal?.removeEventListener('abort', onAbort);
          operation.cancel();
        };
      });

  // Like tRPC's own client, it connects at once: a caller may wait for `connected` before its first call.
  connection.start();
  return {
    link,
    get state() {
      return state();
    },
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start: (request, consumer) => {
      const status = connection.status;
      if (status.state === 'closed') {
        consumer.error(TRPCClientError.from(new ClientClosedError(status.reason)));
        return null;
      }
      connection.start();
      return new LinkOperation(carriers, request, consumer);
    },
    reconnectNow() {
      connection.reconnectNow();
      if (transport === 'http') http?.reconnectNow();
    },
    dispose() {
      connection.dispose();
    },
  };
}

/** tRPC's observer as an operation's consumer: what its client expects of a link, its handlers run through `callUserCode`. */
class ObserverConsumer implements OperationConsumer {
  constructor(
    private readonly observer: ResultObserver,
    private readonly op: Operation,
  ) {}

  started(): void {
    callUserCode(() => this.observer.next({ result: { type: 'started' }, context: this.op.context }));
  }

  data(value: unknown, id: string | undefined): void {
    const result =
      id === undefined ? { type: 'data' as const, data: value } : { type: 'data' as const, data: value, id };
    callUserCode(() => this.observer.next({ result, context: this.op.context }));
  }

  suspended(): void {
    // As tRPC's own link: a subscription hears that its connection is being re-established.
    const result = { type: 'state' as const, state: 'connecting' as const, error: null };
    callUserCode(() => this.observer.next({ result, context: this.op.context }));
  }

  error(error: TRPCClientError<AnyTRPCRouter>): void {
    callUserCode(() => this.observer.error(error));
  }

  complete(): void {
    callUserCode(() => this.observer.complete());
  }

  closed(error: ClientClosedError): void {
    // As tRPC's own client closing: a subscription completes, a call still owed an answer fails.
    if (this.op.type === 'subscription') this.complete();
    else this.error(TRPCClientError.from(error));
  }
}
