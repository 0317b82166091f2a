import { WebSocket } from 'ws';

export interface RawSocket {
  socket: WebSocket;
  send(message: unknown): void;
  sendRaw(data: string | Buffer): void;
  /** The next parsed message matching `predicate` (messages already received count). */
  waitForMessage(predicate?: (message: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  waitForClose(): Promise<{ code: number; reason: string }>;
  close(): void;
}

/** A protocol-level client for wire tests: no tRPC client logic in the way. */
export async function openRawSocket(
  url: string,
  options: { origin?: string; localAddress?: string } = {},
): Promise<RawSocket> {
  const socket = new WebSocket(url, {
    ...(options.origin ? { origin: options.origin } : {}),
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  const received: Record<string, unknown>[] = [];
  const waiters: Array<{
    predicate: (m: Record<string, unknown>) => boolean;
    resolve: (m: Record<string, unknown>) => void;
  }> = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  socket.on('error', () => {});
  socket.on('message', (data) => {
    const text = data.toString();
    if (text === 'PING' || text === 'PONG') return;
    const message = JSON.parse(text) as Record<string, unknown>;
    const waiter = waiters.find((w) => w.predicate(message));
    if (waiter) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(message);
    } else {
      received.push(message);
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    socket.once('error', reject);
  });
  return {
    socket,
    send: (message) => socket.send(JSON.stringify(message)),
    sendRaw: (data) => socket.send(data),
    waitForMessage(predicate = () => true) {
      const index = received.findIndex(predicate);
      if (index >= 0) return Promise.resolve(received.splice(index, 1)[0] as Record<string, unknown>);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    waitForClose: () => closed,
    close: () => socket.close(),
  };
}

/** The connectionParams message a well-behaved client sends first. */
export function connectionParamsMessage(data: Record<string, string>) {
  return { method: 'connectionParams', data };
}
