import type { WebSocketConstructor } from './options';
import type { Pacer } from './pacer';

type Listener = (this: unknown, event: unknown) => void;

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
/** Close code for a connection lost without a close frame (RFC 6455). */
const ABNORMAL_CLOSURE = 1006;

export interface PacedSocketOptions {
  Real: WebSocketConstructor;
  pacer: Pacer;
  /** A connection not open by then is abandoned (a frozen or unreachable server). */
  connectTimeoutMs: number;
  /** A close not confirmed by then is completed locally (the peer may be frozen). */
  closeTimeoutMs: number;
  /** A connection open this long counts as a success for the backoff. */
  stableAfterMs: number;
  /** Aborts attempts still waiting for their turn (the client was disposed). */
  signal: AbortSignal;
}

/**
 * A WebSocket-compatible class for tRPC's client. Each instance waits for its
 * turn from the pacer before it really connects, so backoff, jitter and
 * "retry now" are ours, while tRPC keeps its request and resubscribe logic.
 * It also bounds connecting and closing, which a frozen peer can otherwise
 * stretch to minutes.
 */
export function createPacedWebSocket(options: PacedSocketOptions): WebSocketConstructor {
  const { Real, pacer, connectTimeoutMs, closeTimeoutMs, stableAfterMs, signal } = options;

  class PacedWebSocket {
    static readonly CONNECTING = CONNECTING;
    static readonly OPEN = OPEN;
    static readonly CLOSING = CLOSING;
    static readonly CLOSED = CLOSED;
    readonly CONNECTING = CONNECTING;
    readonly OPEN = OPEN;
    readonly CLOSING = CLOSING;
    readonly CLOSED = CLOSED;

    readyState: number = CONNECTING;
    #binaryType: 'blob' | 'arraybuffer' = 'blob';
    readonly #listeners = new Map<string, Set<Listener>>();
    #real: WebSocket | null = null;
    #wasOpen = false;
    #timer: ReturnType<typeof setTimeout> | undefined;

    constructor(url: string | URL, protocols?: string | string[]) {
      // Started on a later task: tRPC attaches its listeners (and sets binaryType) only after
      // construction, and a failure reported before then would reach nobody.
      setTimeout(() => {
        pacer.waitTurn(signal).then(
          () => this.#connect(url, protocols),
          () => this.#fail('client disposed'),
        );
      }, 0);
    }

    get binaryType(): 'blob' | 'arraybuffer' {
      return this.#binaryType;
    }

    set binaryType(type: 'blob' | 'arraybuffer') {
      this.#binaryType = type;
      if (this.#real) (this.#real as { binaryType: string }).binaryType = type;
    }

    get bufferedAmount(): number {
      return this.#real?.bufferedAmount ?? 0;
    }

    addEventListener(type: string, listener: Listener): void {
      let set = this.#listeners.get(type);
      if (!set) {
        set = new Set();
        this.#listeners.set(type, set);
      }
      set.add(listener);
    }

    removeEventListener(type: string, listener: Listener): void {
      this.#listeners.get(type)?.delete(listener);
    }

    send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (this.readyState !== OPEN || !this.#real) throw new Error('WebSocket is not open');
      this.#real.send(data);
    }

    close(code?: number, reason?: string): void {
      if (this.readyState === CLOSING || this.readyState === CLOSED) return;
      if (!this.#real || this.readyState === CONNECTING) {
        this.#real?.close();
        this.#fail('closed before the connection opened');
        return;
      }
      this.readyState = CLOSING;
      this.#real.close(code, reason);
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.#abandon('close handshake timed out'), closeTimeoutMs);
    }

    /** Listeners run with the socket as `this`, as EventTarget calls them (tRPC's PING handler relies on it). */
    #emit(type: string, event: unknown): void {
      for (const listener of [...(this.#listeners.get(type) ?? [])]) listener.call(this, event);
    }

    #connect(url: string | URL, protocols?: string | string[]): void {
      if (this.readyState !== CONNECTING) return;
      let real: WebSocket;
      try {
        real = new Real(url, protocols);
      } catch (error) {
        this.#fail(error instanceof Error ? error.message : 'could not create a WebSocket');
        return;
      }
      (real as { binaryType: string }).binaryType = this.#binaryType;
      this.#real = real;
      this.#timer = setTimeout(() => this.#fail('connect timed out'), connectTimeoutMs);
      real.addEventListener('open', (event) => {
        if (this.readyState !== CONNECTING) return;
        clearTimeout(this.#timer);
        this.readyState = OPEN;
        this.#wasOpen = true;
        this.#timer = setTimeout(() => pacer.stable(), stableAfterMs);
        pacer.opened();
        this.#emit('open', event);
      });
      real.addEventListener('message', (event) => this.#emit('message', event));
      real.addEventListener('error', (event) => {
        if (this.readyState !== CLOSED) this.#emit('error', event);
      });
      real.addEventListener('close', (event) => this.#finish(event.code, event.reason));
    }

    /** Gives up on the real socket (terminated where the implementation can, as `ws` does; closed in browsers) and reports it closed. */
    #abandon(reason: string): void {
      const real = this.#real as (WebSocket & { terminate?: () => void }) | null;
      if (real?.terminate) real.terminate();
      else real?.close();
      this.#finish(ABNORMAL_CLOSURE, reason);
    }

    /** Never opened: tRPC waits for `open` or `error`, so both `error` and `close` are sent. */
    #fail(reason: string): void {
      if (this.readyState === CLOSED) return;
      this.#emit('error', { type: 'error', message: reason });
      this.#abandon(reason);
    }

    #finish(code: number, reason: string): void {
      if (this.readyState === CLOSED) return;
      this.readyState = CLOSED;
      clearTimeout(this.#timer);
      pacer.closed({ code, reason }, this.#wasOpen);
      this.#emit('close', { type: 'close', code, reason, wasClean: code !== ABNORMAL_CLOSURE });
    }
  }

  return PacedWebSocket as unknown as WebSocketConstructor;
}
