import type { IncomingMessage } from 'node:http';

/** `::ffff:127.0.0.1` and `127.0.0.1` are one client. */
export const normalise = (address: string) => (address.startsWith('::ffff:') ? address.slice(7) : address);

/**
 * The client's address for per-address limits. Behind a load balancer every
 * connection comes from the proxy, so when the peer is a trusted proxy the
 * rightmost `X-Forwarded-For` hop that is not one is the client (hops to its
 * left are whatever the client claimed, and cannot be trusted).
 */
export function clientAddress(req: IncomingMessage, trustedProxies: readonly string[]): string {
  const remote = normalise(req.socket.remoteAddress ?? 'unknown');
  if (!trustedProxies.includes(remote)) return remote;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((hop) => normalise(hop.trim()))
    .filter(Boolean);
  for (let index = hops.length - 1; index >= 0; index -= 1) {
    const hop = hops[index] as string;
    if (!trustedProxies.includes(hop)) return hop;
  }
  return remote;
}
