import type { Duplex } from 'node:stream';
import { CloseCode } from '@tether/protocol';
import { getErrorShape, type TRPCError, TRPCError as TRPCErrorClass } from '@trpc/server';
import { parseTRPCMessage, type TRPCClientOutgoingMessage, type TRPCResponseMessage } from '@trpc/server/rpc';
import type { RawData, WebSocket } from 'ws';
import { callProcedure } from '../calls/call-procedure';
import { isEphemeral, websocketFrame } from '../calls/frames';
import { publicError, runSubscription, type SubscriptionSink } from '../calls/run-subscription';
import { drainedOf } from '../session/drained';
import type { Session, SessionPort, Subscription } from '../session/session';
import { TokenBucket } from '../session/token-bucket';
import type { TransportDeps } from '../session/transport-deps';
import { closeHard } from './close-hard';
import { readHandshake } from './handshake';

type RequestId = string | number;
const PING = 'PING';
const PONG = 'PONG';
const TEXT = { binary: false } as const;

/** What a client is told of a message that is not a tRPC call (the parser's own text says nothing useful). */
const MALFORMED_CALL =
  'not a tRPC call: expected { id, method: "query" | "mutation" | "subscription", params: { path, input: <superjson> } }';

/** Ids are echoed in every frame of a subscription and kept while it runs: short strings or safe integers only. */
const MAX_ID_LENGTH = 128;
const BAD_ID = `a request id is a safe integer or a string of at most ${MAX_ID_LENGTH} characters`;
/** Malformed frames or messages a connection may send before it is closed 4400. */
const MAX_MALFORMED = 10;

function requestIdOf(raw: unknown): RequestId | null {
  const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
  if (typeof id === 'number') return Number.isSafeInteger(id) ? id : null;
  return typeof id === 'string' && id.length <= MAX_ID_LENGTH ? id : null;
}

function uncork(connection: WebSocketConnection): void {
  connection.corked = false;
  connection.raw.uncork();
}

/**
 * One WebSocket client, speaking tRPC's wire without tRPC's adapter: the
 * handshake, then calls parsed once and counted as calls (not bytes) against
 * the rate limit, responses and subscription items written through one cork
 * per tick, and the send-buffer cap checked on every write.
 */
export class WebSocketConnection implements SessionPort {
  /** Set once the registry admits the connection, before any message is read. */
  session!: Session<unknown>;
  corked = false;
  readonly #bucket: TokenBucket;
  /** Frames that arrived while the handshake's token was being verified. */
  #pending: Buffer[] | null = null;
  #pendingBytes = 0;
  /** Frames that were not JSON or not tRPC calls, so far: past a few, the peer is broken or hostile. */
  #malformed = 0;
  /** The code this side closed with, when it did (a cut peer's socket reports 1006). */
  closedWith: CloseCode | null = null;
  /** The wait for the socket to drain that replays share, while there is one. */
  #drained: Promise<void> | null = null;
  /** Subscriptions whose latest ephemeral item waits for the reader to catch up. */
  #waitingEphemeral: Map<Subscription, Buffer> | null = null;

  constructor(
    readonly deps: TransportDeps,
    readonly socket: WebSocket,
    readonly raw: Duplex,
    readonly address: string,
  ) {
    this.#bucket = new TokenBucket({ ratePerSecond: deps.limits.messagesPerSecond, burst: deps.limits.messageBurst });
  }

  // --- SessionPort ---------------------------------------------------------

  end(code: CloseCode, reason: string): void {
    this.closedWith ??= code;
    closeHard(this.socket, code, reason);
  }

  get bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  bytesSent = 0;

  drained(): Promise<void> {
    // One wait for all of its subscriptions' replays: one listener on the socket, however many wait.
    this.#drained ??= drainedOf(this.raw, this.bufferedBytes).finally(() => {
      this.#drained = null;
    });
    return this.#drained;
  }

  ping(): void {
    this.send(PING);
  }

  terminate(): void {
    this.socket.terminate();
  }

  // --- incoming ------------------------------------------------------------

  receive(data: RawData, isBinary: boolean) {
    const session = this.session;
    if (session.ended) return;
    session.lastSeenAt = performance.now();
    session.pingSentAt = 0;
    const bytes = data as Buffer;
    this.deps.metrics.bytesIn('websocket', bytes.length);
    if (!isBinary && bytes.length === 4) {
      const text = bytes.toString();
      // A heartbeat costs a call like any frame: a flood of pings is a flood.
      if (text === PING) return this.#rateLimited(1) ? undefined : this.send(PONG);
      if (text === PONG) return;
    }
    if (this.#pending) return this.#hold(bytes);
    if (!session.ready) return this.#handshake(bytes);
    this.#calls(bytes);
  }

  /** Holds a frame that arrived while the token is verified, within the limits a frame of calls has anyway. */
  #hold(bytes: Buffer) {
    const pending = this.#pending as Buffer[];
    this.#pendingBytes += bytes.length;
    if (pending.length >= this.deps.limits.messageBurst || this.#pendingBytes > this.deps.limits.maxPayloadBytes) {
      this.deps.metrics.limitExceeded('rate');
      this.deps.onLimit(this.session, CloseCode.RateLimited);
      return this.end(CloseCode.RateLimited, 'too many messages before the token was verified; slow down');
    }
    pending.push(bytes);
  }

  #handshake(bytes: Buffer) {
    let message: unknown;
    try {
      message = JSON.parse(bytes.toString());
    } catch {
      return this.end(CloseCode.BadFrames, 'first message must be JSON connectionParams');
    }
    const handshake = readHandshake(message);
    if (!handshake.ok) return this.end(handshake.code, handshake.reason);
    this.session.clientName = handshake.params.client;
    this.session.ready = true;
    const token = handshake.params.token;
    if (!token) return;
    // Calls that arrive while the token is verified wait for it.
    this.#pending = [];
    this.#pendingBytes = 0;
    this.deps.sessions.signIn(this.session, token).then(
      () => {
        const pending = this.#pending ?? [];
        this.#pending = null;
        for (const bytes of pending) if (!this.session.ended) this.#calls(bytes);
      },
      (failure: TRPCError) => {
        this.#pending = null;
        // An outage is not a bad token: the client reconnects with backoff instead of refreshing it.
        const code =
          failure.code === 'UNAUTHORIZED'
            ? CloseCode.Unauthorized
            : failure.code === 'TOO_MANY_REQUESTS'
              ? CloseCode.TryAgainLater
              : CloseCode.InternalError;
        this.end(code, failure.message.slice(0, 120));
      },
    );
  }

  #rateLimited(calls: number): boolean {
    if (this.#bucket.take(calls)) return false;
    this.deps.metrics.limitExceeded('rate');
    this.deps.onLimit(this.session, CloseCode.RateLimited);
    this.end(CloseCode.RateLimited, 'message rate limit exceeded; slow down');
    return true;
  }

  /** Answers a malformed frame or message, and closes 4400 once there have been too many. */
  #malformedMessage(id: RequestId | null, error: TRPCError) {
    this.#malformed += 1;
    if (this.#malformed > MAX_MALFORMED) {
      this.deps.metrics.limitExceeded('malformed');
      return this.end(CloseCode.BadFrames, 'too many malformed messages');
    }
    this.respondError(id, undefined, error, undefined, 'unknown');
  }

  #calls(bytes: Buffer) {
    // Every frame costs a call before it is parsed, so frames that do not parse are not free.
    if (this.#rateLimited(1)) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString());
    } catch (cause) {
      return this.#malformedMessage(null, new TRPCErrorClass({ code: 'PARSE_ERROR', message: 'not JSON', cause }));
    }
    const messages = Array.isArray(parsed) ? parsed : [parsed];
    if (messages.length > 1 && this.#rateLimited(messages.length - 1)) return;
    if (messages.length > this.deps.limits.maxCallsPerFrame) {
      this.deps.metrics.limitExceeded('calls_per_frame');
      const error = new TRPCErrorClass({
        code: 'BAD_REQUEST',
        message: `at most ${this.deps.limits.maxCallsPerFrame} calls per frame`,
      });
      for (const message of messages) {
        const id = requestIdOf(message);
        if (id !== null) this.respondError(id, undefined, error, undefined, 'unknown');
      }
      return;
    }
    const { transformer } = this.deps.router._def._config;
    for (const raw of messages) {
      let message: TRPCClientOutgoingMessage;
      try {
        message = parseTRPCMessage(raw, transformer);
      } catch (cause) {
        // Answered under the call's own id where it has one, so its caller is not left waiting.
        const error = new TRPCErrorClass({ code: 'PARSE_ERROR', message: MALFORMED_CALL, cause });
        this.#malformedMessage(requestIdOf(raw), error);
        continue;
      }
      if (message.id !== null && requestIdOf(message) === null) {
        this.#malformedMessage(null, new TRPCErrorClass({ code: 'PARSE_ERROR', message: BAD_ID }));
        continue;
      }
      this.#request(message);
    }
  }

  #request(message: TRPCClientOutgoingMessage) {
    const { id, jsonrpc } = message;
    if (id === null) {
      // Counted as malformed like any other call that cannot be answered: repeated, it closes 4400 too.
      return this.#malformedMessage(null, new TRPCErrorClass({ code: 'PARSE_ERROR', message: '`id` is required' }));
    }
    if (message.method === 'subscription.stop') {
      this.session.subscriptions.get(id)?.end();
      return;
    }
    const { path, lastEventId } = message.params;
    let input = message.params.input;
    if (lastEventId !== undefined) {
      input = typeof input === 'object' && input !== null ? { ...input, lastEventId } : (input ?? { lastEventId });
    }
    if (message.method === 'subscription') return this.#subscribe(id, jsonrpc, path, input);
    const type = message.method;
    callProcedure(this.deps.router, { path, input, ctx: this.session.context, type })
      .then(
        (data) => {
          this.deps.metrics.call('websocket', path, 'ok');
          this.respond({ id, jsonrpc, result: { type: 'data', data } });
        },
        (cause: unknown) => this.respondError(id, jsonrpc, publicError(cause), input, type, path),
      )
      // A reply that cannot be built or sent is the server's error: logged, never a crash.
      .catch((cause: unknown) => this.deps.onCallError(publicError(cause), path, type));
  }

  #subscribe(id: RequestId, jsonrpc: '2.0' | undefined, path: string, input: unknown) {
    if (this.session.subscriptions.has(id)) {
      const error = new TRPCErrorClass({ code: 'BAD_REQUEST', message: `duplicate subscription id ${id}` });
      return this.respondError(id, jsonrpc, error, input, 'subscription', path);
    }
    let subscription: Subscription;
    try {
      subscription = this.deps.sessions.admitSubscription(this.session, id);
    } catch (cause) {
      return this.respondError(id, jsonrpc, publicError(cause), input, 'subscription', path);
    }
    const sink = new WebSocketSubscriptionSink(this, subscription, id, jsonrpc, path, input);
    runSubscription(this.deps, { session: this.session, subscription, path, input }, sink).catch((cause: unknown) =>
      this.deps.onCallError(publicError(cause), path, 'subscription'),
    );
  }

  /** After a subscription's end has been told to its client. */
  subscriptionEnded(subscription: Subscription, path: string, outcome: string): void {
    this.#waitingEphemeral?.delete(subscription);
    this.deps.metrics.call('websocket', path, outcome);
  }

  // --- outgoing ------------------------------------------------------------

  /**
   * tRPC's `transformTRPCResponse` for one message, with plain object spreads
   * (tRPC's bundled spread helper copies through property descriptors).
   */
  respond(message: TRPCResponseMessage): void {
    const { output } = this.deps.router._def._config.transformer;
    let wire: TRPCResponseMessage = message;
    if ('error' in message) wire = { ...message, error: output.serialize(message.error) };
    else if ('data' in message.result) {
      wire = { ...message, result: { ...message.result, data: output.serialize(message.result.data) } };
    }
    this.send(JSON.stringify(wire));
  }

  respondError(
    id: RequestId | null,
    jsonrpc: '2.0' | undefined,
    error: TRPCError,
    input: unknown,
    type: 'query' | 'mutation' | 'subscription' | 'unknown',
    path?: string,
    report = true,
  ): void {
    if (report) this.deps.onCallError(error, path, type);
    if (path && type !== 'subscription') this.deps.metrics.call('websocket', path, error.code);
    const shape = getErrorShape({
      config: this.deps.router._def._config,
      error,
      type,
      path,
      input,
      ctx: this.session.context,
    });
    this.respond({ id, jsonrpc, error: shape });
  }

  /** Writes one frame; frames written in the same tick leave in one write. */
  send(frame: string | Buffer): void {
    const socket = this.socket;
    if (socket.readyState !== socket.OPEN) return;
    if (!this.corked) {
      this.corked = true;
      this.raw.cork();
      process.nextTick(uncork, this);
    }
    socket.send(frame, TEXT);
    const bytes = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
    this.bytesSent += bytes;
    this.deps.metrics.bytesOut('websocket', bytes);
    const buffered = socket.bufferedAmount;
    this.deps.metrics.sendBuffer(buffered);
    if (buffered > this.deps.limits.sendBufferBytes) {
      this.deps.metrics.limitExceeded('send_buffer');
      this.deps.onLimit(this.session, CloseCode.SlowConsumer);
      this.end(CloseCode.SlowConsumer, 'send buffer over its limit: reconnect and resume');
    }
  }

  /** A lagging reader gets only the latest ephemeral item per subscription, once it has caught up. */
  dropHeldEphemeral(subscription: Subscription): void {
    this.#waitingEphemeral?.delete(subscription);
  }

  holdEphemeral(subscription: Subscription, frame: Buffer): void {
    if (!this.#waitingEphemeral) {
      this.#waitingEphemeral = new Map();
      this.raw.once('drain', () => {
        const waiting = this.#waitingEphemeral;
        this.#waitingEphemeral = null;
        for (const held of waiting?.values() ?? []) this.send(held);
      });
    }
    this.#waitingEphemeral.set(subscription, frame);
  }
}

/**
 * Where one subscription's items go on a WebSocket: a small object per
 * subscription rather than a closure per callback, since idle subscriptions
 * are what a server holds most of.
 */
class WebSocketSubscriptionSink implements SubscriptionSink {
  #prefix: string | null = null;

  constructor(
    private readonly connection: WebSocketConnection,
    private readonly subscription: Subscription,
    private readonly id: RequestId,
    private readonly jsonrpc: '2.0' | undefined,
    private readonly path: string,
    private readonly input: unknown,
  ) {}

  /** What every data frame of this subscription starts with; the event's bytes follow, serialized once for all. */
  get prefix(): string {
    // Built at the first frame: a quiet subscriber holds no string for it.
    this.#prefix ??= `{"id":${JSON.stringify(this.id)}${this.jsonrpc ? ',"jsonrpc":"2.0"' : ''},"result":`;
    return this.#prefix;
  }

  started(): void {
    this.connection.respond({ id: this.id, jsonrpc: this.jsonrpc, result: { type: 'started' } });
  }

  data(value: unknown): boolean {
    const { connection } = this;
    const { router, metrics, limits } = connection.deps;
    const frame = websocketFrame(router._def._config.transformer, value, this.prefix, metrics);
    if (isEphemeral(value)) {
      // Only the latest ephemeral item is kept for a reader that lags: it waits, and replaces any that waited.
      if (connection.socket.bufferedAmount > limits.ephemeralBufferBytes) {
        connection.holdEphemeral(this.subscription, frame);
        return false;
      }
      connection.dropHeldEphemeral(this.subscription);
    }
    connection.send(frame);
    return true;
  }

  error(error: TRPCError): void {
    this.connection.subscriptionEnded(this.subscription, this.path, error.code);
    this.connection.respondError(this.id, this.jsonrpc, error, this.input, 'subscription', this.path, false);
  }

  stopped(): void {
    this.connection.subscriptionEnded(this.subscription, this.path, 'ok');
    this.connection.respond({ id: this.id, jsonrpc: this.jsonrpc, result: { type: 'stopped' } });
  }
}
