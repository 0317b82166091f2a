import type { Server } from 'node:http';
import { normalise } from './client-address';

export interface OpenSocketLimits {
  /** Open TCP sockets one peer address may hold, idle or not, plain HTTP and WebSocket alike. */
  perAddress: number;
  /** Peers not counted: load balancers, which carry everyone's sockets. */
  exempt: readonly string[];
  /** A socket was refused (for counting). */
  onRefused(): void;
}

/**
 * Caps the sockets each peer address holds open, before a byte of them is
 * read: idle keep-alive sockets count for no session, and one address holding
 * thousands would take the file descriptors every other address needs. Past
 * the cap a new socket is closed at once.
 */
export function limitOpenSockets(server: Server, limits: OpenSocketLimits): void {
  const open = new Map<string, number>();
  server.on('connection', (socket) => {
    const address = normalise(socket.remoteAddress ?? 'unknown');
    if (limits.exempt.includes(address)) return;
    const count = (open.get(address) ?? 0) + 1;
    if (count > limits.perAddress) {
      limits.onRefused();
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}
