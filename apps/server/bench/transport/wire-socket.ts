import { WebSocket } from 'ws';

/** A reply on the wire: tRPC's `{ id, result | error }`, or the raw echo of a request (which has an id too). */
export interface WireReply {
  id: number;
  result?: unknown;
  error?: unknown;
}

/** A request unanswered this long fails every call on the socket: the loops using it are bounded. */
const REPLY_TIMEOUT_MS = 15_000;
const OPEN_TIMEOUT_MS = 10_000;

/**
 * One raw `ws` socket speaking JSON requests matched to replies by `id`, as
 * tRPC's wire does; no @trpc/client. Answers the server's `PING` with `PONG`.
 * One timer per socket watches for lost replies, not one per call, so the
 * client's own cost stays the same whatever the server.
 */
export class WireSocket {
  private readonly pending = new Map<number, { at: number; resolve(reply: WireReply): void; reject(e: Error): void }>();
  private nextId = 1;
  private failure: Error | null = null;
  private readonly watchdog: NodeJS.Timeout;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      const text = data.toString();
      if (!isBinary && text === 'PING') {
        socket.send('PONG');
        return;
      }
      const reply = JSON.parse(text) as WireReply;
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      waiter.resolve(reply);
    });
    socket.on('close', (code, reason) => this.fail(new Error(`socket closed ${code} ${reason.toString()}`)));
    this.watchdog = setInterval(() => {
      const oldest = this.pending.values().next().value;
      if (oldest && performance.now() - oldest.at > REPLY_TIMEOUT_MS) {
        this.fail(new Error(`no reply within ${REPLY_TIMEOUT_MS} ms`));
        socket.terminate();
      }
    }, 1_000);
    this.watchdog.unref();
  }

  /** Opens `url` and sends `openFrames` (a handshake) before any request. */
  static async open(url: string, openFrames: readonly string[]): Promise<WireSocket> {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${url}: not open within ${OPEN_TIMEOUT_MS} ms`)),
        OPEN_TIMEOUT_MS,
      );
      socket.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    socket.on('error', () => {});
    for (const frame of openFrames) socket.send(frame);
    return new WireSocket(socket);
  }

  /** Sends `frame(id)` with a fresh id; resolves with the frame answering it. */
  call(frame: (id: number) => string): Promise<WireReply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { at: performance.now(), resolve, reject });
      this.socket.send(frame(id));
    });
  }

  close(): void {
    clearInterval(this.watchdog);
    this.socket.close(1000);
  }

  private fail(error: Error): void {
    clearInterval(this.watchdog);
    this.failure ??= error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

/** The answer's result, or a readable error for an error answer. */
export function resultOf(reply: WireReply, what: string): unknown {
  if (reply.error !== undefined) throw new Error(`${what} failed: ${JSON.stringify(reply.error)}`);
  return reply.result;
}
