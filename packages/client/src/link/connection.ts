import { CloseCode, FATAL_CLOSE_CODES, SLOW_DOWN_CLOSE_CODES } from '@tether/protocol/wire';
import { fullJitterBackoff } from '../backoff';
import type { KeepAliveOptions, ReconnectOptions, WebSocketConstructor } from '../options';
import type { ClosedReason, LastClose, TransportStatus } from '../status';
import { callUserCode, raiseLater } from './call-user-code';

/** What the connection tells its owner. */
export interface ConnectionEvents {
  /** The handshake is sent: requests may go out on `send`. */
  opened(): void;
  /** A message from the server other than heartbeats and the reconnect notice, parsed. */
  message(message: unknown): void;
  /** The open socket went away: answers still owed on it will not come. */
  lost(): void;
  /** The socket has stayed open for `stableAfterMs`: WebSocket works here. */
  stable(): void;
  /** Every change of state. */
  changed(state: TransportStatus): void;
}

export interface ConnectionOptions {
  /** One endpoint, or several (processes without a load balancer): each new socket goes to the next. */
  url: string | readonly string[];
  WebSocket: WebSocketConstructor;
  /**
   * The handshake's `data`, asked anew before every socket; `forceRefresh`
   * after the server refused the token (4401). null after a refusal means no
   * fresh token can be had: the connection ends. A rejection, or no answer
   * within `connectTimeoutMs`, is retried like a failed socket.
   */
  connectionParams(forceRefresh: boolean): Promise<unknown>;
  keepAlive: KeepAliveOptions;
  reconnect: ReconnectOptions;
  random?: () => number;
  now?: () => number;
}

/** What the connection uses of a socket: the DOM WebSocket's handler properties, which `ws` has too. */
interface Socket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

const OPEN = 1;
const ignore = () => {};
/** What a WebSocket reports for a connection lost without a close frame (RFC 6455, 7.1.5); no server sends it. */
const ABNORMAL_CLOSURE = 1006;
/** An attempt that failed before it had a socket to close. */
const NO_CLOSE = 0;

/** `promise`, or a rejection after `ms` (a getToken that never answers must not stall reconnecting). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One WebSocket at a time, and the state machine around it: full-jitter
 * backoff (reset once a connection stays open), the close-code policy
 * (fatal codes end it, 4401 refreshes the token, 1013/4429 slow down), the
 * connect and close timeouts, the heartbeat, and wake-ups (`reconnectNow`).
 * It knows nothing of requests: its owner sends frames while it is connected
 * and hears what comes back. `dispose()` leaves no timer, socket or handler.
 */
export class Connection {
  #status: TransportStatus = { state: 'connecting', lastCloseCode: null, lastCloseReason: '' };
  #socket: Socket | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #heartbeat: ReturnType<typeof setTimeout> | undefined;
  /** Messages heard on the socket: the heartbeat timer checks whether it moved instead of being re-armed per message (no clock, so no clock step can fool it). */
  #heard = 0;
  #stableTimer: ReturnType<typeof setTimeout> | undefined;
  /** Attempts since a connection last stayed open. */
  #attempt = 0;
  /** The close since a connection last stayed open: what decides a token refresh or a slower backoff. */
  #recentClose: number | null = null;
  /** Attempts in a row that ended without a word from the server (see `unheardAttempts`). */
  #unheard = 0;
  /** Which of several endpoints the next socket goes to. */
  #endpointIndex = 0;
  /** The server announced a restart on this socket: nothing new is sent on it. */
  #draining = false;
  /** A lower ceiling for retry delays, while another transport carries the traffic (see `capRetries`). */
  #retryCeiling: number | null = null;
  #started = false;
  readonly #random: () => number;
  readonly #now: () => number;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly events: ConnectionEvents,
  ) {
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  get status(): TransportStatus {
    return this.#status;
  }

  get isOpen(): boolean {
    return this.#status.state === 'connected' && !this.#draining;
  }

  /**
   * Attempts in a row that ended with 1006 and never stayed open: the
   * upgrade refused, the socket cut right after opening, or no answer at
   * all. A proxy that blocks WebSocket looks like this; a server that closed
   * with a code of its own (a restart, a limit, a token) does not.
   */
  get unheardAttempts(): number {
    return this.#unheard;
  }

  /** Opens the first socket at once. */
  start(): void {
    if (this.#started || this.#status.state === 'closed') return;
    this.#started = true;
    void this.#connect();
  }

  /** Sends a frame on the open socket; false when there is none (the owner keeps it for the next). */
  send(frame: string): boolean {
    const socket = this.#socket;
    if (!this.isOpen || !socket || socket.readyState !== OPEN) return false;
    socket.send(frame);
    return true;
  }

  /** Cuts a backoff wait short (back online, page visible, a "retry now" button). */
  reconnectNow(): void {
    // Only a wait is cut short: an attempt under way (its token being fetched, its socket opening) goes on.
    if (this.#status.state !== 'reconnecting' || this.#socket || !this.#timer) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    void this.#connect();
  }

  /** Ends for good: no timer, socket or handler is left. */
  dispose(): void {
    this.#end('disposed');
  }

  /**
   * Retries wait at most `ms` from the next one on (null: back to
   * `reconnect.maxMs`): while HTTP carries the traffic, a WebSocket that
   * becomes possible is found soon, at the cost of one upgrade attempt now and then.
   */
  capRetries(ms: number | null): void {
    this.#retryCeiling = ms;
  }

  /** Ends for good for a reason found outside the socket (no fresh token for HTTP). */
  close(reason: ClosedReason): void {
    this.#end(reason);
  }

  #set(status: TransportStatus): void {
    this.#status = status;
    callUserCode(() => this.events.changed(status));
  }

  #lastClose(): LastClose {
    return { lastCloseCode: this.#status.lastCloseCode, lastCloseReason: this.#status.lastCloseReason };
  }

  #end(reason: ClosedReason): void {
    if (this.#status.state === 'closed') return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const socket = this.#detach();
    socket?.close(CloseCode.Normal, 'client closed');
    this.#set({ state: 'closed', reason, ...this.#lastClose() });
  }

  /** Forgets the current socket: its handlers go, and so do the timers that watched it. */
  #detach(): Socket | null {
    const socket = this.#socket;
    this.#socket = null;
    clearTimeout(this.#heartbeat);
    clearTimeout(this.#stableTimer);
    this.#heartbeat = undefined;
    this.#stableTimer = undefined;
    if (socket) {
      socket.onopen = null;
      socket.onmessage = null;
      socket.onclose = null;
      // Kept, not removed: `ws` emits an error when a socket is closed before it opened, and an unheard error throws.
      socket.onerror = ignore;
    }
    return socket;
  }

  async #connect(): Promise<void> {
    const status = this.#status;
    // The wait is over: an attempt is under way.
    if (status.state === 'reconnecting' && status.retryAt !== null) this.#set({ ...status, retryAt: null });
    const forceRefresh = this.#recentClose === CloseCode.Unauthorized;
    let params: unknown;
    try {
      params = await withTimeout(this.options.connectionParams(forceRefresh), this.options.reconnect.connectTimeoutMs);
    } catch (cause) {
      if (this.#status.state === 'closed') return;
      // Retried; after a refusal the next attempt asks for a fresh token again.
      const reason = `could not get connection params: ${cause instanceof Error ? cause.message : String(cause)}`;
      this.#closed({ code: forceRefresh ? CloseCode.Unauthorized : NO_CLOSE, reason }, false);
      return;
    }
    if (this.#status.state === 'closed') return;
    if (params === null && forceRefresh) return this.#end('unauthorized');
    const endpoint = this.#nextEndpoint();
    const url = `${endpoint}${endpoint.includes('?') ? '&' : '?'}connectionParams=1`;
    let socket: Socket;
    try {
      socket = new this.options.WebSocket(url) as unknown as Socket;
    } catch (cause) {
      this.#closed(
        { code: NO_CLOSE, reason: cause instanceof Error ? cause.message : 'could not open a socket' },
        false,
      );
      return;
    }
    this.#socket = socket;
    this.#draining = false;
    this.#timer = setTimeout(() => this.#abandon(socket, 'not open in time'), this.options.reconnect.connectTimeoutMs);
    socket.onopen = () => {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      socket.send(JSON.stringify({ method: 'connectionParams', data: params }));
      this.#stableTimer = setTimeout(() => {
        this.#attempt = 0;
        this.#recentClose = null;
        this.#unheard = 0;
        callUserCode(() => this.events.stable());
      }, this.options.reconnect.stableAfterMs);
      this.#armHeartbeat();
      this.#set({ state: 'connected', ...this.#lastClose() });
      callUserCode(() => this.events.opened());
    };
    socket.onmessage = ({ data }) => this.#receive(String(data));
    socket.onclose = ({ code, reason }) => this.#closed({ code, reason }, true);
    // An error is always followed by a close; the close decides.
    socket.onerror = ignore;
  }

  /**
   * The endpoint for this socket: with several, each socket takes the next in
   * turn, so one that is down costs one attempt and the rest share the load.
   */
  #nextEndpoint(): string {
    const { url } = this.options;
    if (typeof url === 'string') return url;
    const endpoint = url[this.#endpointIndex % url.length] as string;
    this.#endpointIndex += 1;
    return endpoint;
  }

  #receive(text: string): void {
    this.#heard += 1;
    if (text === 'PONG') return;
    if (text === 'PING') {
      // Straight on the socket: answered even while the server drains (`send` refuses new work then).
      if (this.#socket?.readyState === OPEN) this.#socket.send('PONG');
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message === 'object' && message !== null && 'method' in message && message.method === 'reconnect') {
      // The server is restarting: it closes 1012 once its work in flight is done, and the close reconnects.
      // What is asked meanwhile waits for the next socket instead of being lost with this one.
      this.#draining = true;
      return;
    }
    // Caught here rather than through callUserCode: a closure per message is measurable.
    try {
      this.events.message(message);
    } catch (cause) {
      raiseLater(cause);
    }
  }

  /**
   * Every `intervalMs`, a socket that heard nothing since the last check is
   * pinged (so a quiet one is pinged after one to two intervals); if it hears
   * nothing within `pongTimeoutMs` more, the connection is dead.
   */
  #armHeartbeat(): void {
    clearTimeout(this.#heartbeat);
    const socket = this.#socket;
    if (!socket) return;
    const heard = this.#heard;
    this.#heartbeat = setTimeout(() => this.#checkHeartbeat(socket, heard), this.options.keepAlive.intervalMs);
  }

  #checkHeartbeat(socket: Socket, heardBefore: number): void {
    if (socket !== this.#socket) return;
    if (this.#heard !== heardBefore) {
      this.#armHeartbeat();
      return;
    }
    if (socket.readyState === OPEN) socket.send('PING');
    this.#heartbeat = setTimeout(() => {
      if (this.#heard !== heardBefore) this.#armHeartbeat();
      else this.#abandon(socket, 'no pong in time');
    }, this.options.keepAlive.pongTimeoutMs);
  }

  /** Gives up on a socket that cannot be trusted to close by itself (never opened, stopped answering). */
  #abandon(socket: Socket, reason: string): void {
    if (socket !== this.#socket) return;
    // 1000: browsers let a page close with 1000 or 3000-4999 only.
    socket.close(CloseCode.Normal, reason);
    this.#closed({ code: ABNORMAL_CLOSURE, reason }, true);
  }

  #closed(close: { code: number; reason: string }, socketOwned: boolean): void {
    if (this.#status.state === 'closed') return;
    const wasOpen = this.#status.state === 'connected';
    if (socketOwned) this.#detach();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (wasOpen) callUserCode(() => this.events.lost());
    this.#recentClose = close.code;
    this.#unheard = close.code === ABNORMAL_CLOSURE ? this.#unheard + 1 : 0;
    // A failure before any socket (no params, no socket at all) is no close: its code stays null.
    const last = { lastCloseCode: close.code === NO_CLOSE ? null : close.code, lastCloseReason: close.reason };
    if (FATAL_CLOSE_CODES.has(close.code)) {
      this.#status = { ...this.#status, ...last };
      this.#end(close.code === CloseCode.UpgradeRequired ? 'upgrade-required' : 'server-closed');
      return;
    }
    const slowDown = SLOW_DOWN_CLOSE_CODES.has(close.code) ? this.options.reconnect.slowDownAttempts : 0;
    // The first retry after a connection that had opened goes at once, but with jitter like any other.
    const { reconnect } = this.options;
    const retry =
      this.#retryCeiling === null ? reconnect : { ...reconnect, maxMs: Math.min(reconnect.maxMs, this.#retryCeiling) };
    const delay = fullJitterBackoff(this.#attempt + slowDown, retry, this.#random);
    this.#attempt += 1;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#connect();
    }, delay);
    this.#set({ state: 'reconnecting', attempt: this.#attempt, retryAt: this.#now() + delay, ...last });
  }
}
