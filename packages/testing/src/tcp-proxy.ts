import { type AddressInfo, createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxyOptions {
  targetHost: string;
  targetPort: number;
}

/**
 * A TCP proxy on 127.0.0.1 in front of a real service (PostgreSQL), so a test
 * can take the service away from one client without touching the service itself.
 */
export interface TcpProxy {
  readonly host: '127.0.0.1';
  /** Fixed for the proxy's life: `start()` after `stop()` listens here again, so URLs built on it stay valid. */
  readonly port: number;
  /** Client connections currently open through the proxy. */
  readonly connectionCount: number;
  readonly listening: boolean;
  /** Listens again on the same port (after `stop()`); a no-op when listening. */
  start(): Promise<void>;
  /**
   * Stops listening and destroys every open connection, as a proxy (or a
   * database host) that dies would: clients see their connections drop and new
   * ones refused. Resolves once the port is closed.
   */
  stop(): Promise<void>;
  /**
   * Stops forwarding bytes in both directions without closing anything, as a
   * hung database or a silent network would: connections stay open, new ones
   * are accepted, and nothing comes back. What is held is delivered by `thaw()`.
   */
  freeze(): void;
  /** Resumes forwarding, including what was held while frozen. */
  thaw(): void;
}

interface Pair {
  client: Socket;
  upstream: Socket;
}

/** Starts a proxy from an ephemeral port on 127.0.0.1 to `targetHost:targetPort`. */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let frozen = false;
  let server: Server | null = null;
  let port = 0;

  /** Copies `from` to `to` with backpressure; a frozen proxy leaves `from` paused. */
  function forward(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (to.write(chunk)) return;
      from.pause();
      to.once('drain', () => {
        if (!frozen) from.resume();
      });
    });
    // Half-close passes through, so a client's orderly goodbye reaches the service.
    from.on('end', () => to.end());
  }

  function accept(client: Socket): void {
    const upstream = createConnection({ host: options.targetHost, port: options.targetPort, allowHalfOpen: true });
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      // A reset on one side resets the other; an orderly close lets the other side flush first.
      socket.on('error', () => other.destroy());
      socket.on('close', () => {
        other.end();
        if (client.destroyed && upstream.destroyed) pairs.delete(pair);
      });
      if (frozen) socket.pause();
    }
    forward(client, upstream);
    forward(upstream, client);
  }

  function listen(): Promise<void> {
    const next = createServer({ allowHalfOpen: true }, accept);
    return new Promise((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        next.off('error', reject);
        server = next;
        port = (next.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  await listen();
  return {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    get connectionCount() {
      return pairs.size;
    },
    get listening() {
      return server !== null;
    },
    async start() {
      if (!server) await listen();
    },
    async stop() {
      const closing = server;
      server = null;
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
      if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
    freeze() {
      frozen = true;
      for (const { client, upstream } of pairs) {
        client.pause();
        upstream.pause();
      }
    },
    thaw() {
      frozen = false;
      for (const { client, upstream } of pairs) {
        client.resume();
        upstream.resume();
      }
    },
  };
}
