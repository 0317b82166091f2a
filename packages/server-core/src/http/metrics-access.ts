import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIPv4 } from 'node:net';
import { normalise } from './client-address';
import { isUnrebindable } from './origin';

const isLoopback = (address: string) => address === '::1' || (isIPv4(address) && address.startsWith('127.'));

/** What a proxy adds: a request carrying one came from elsewhere, whoever handed it over. */
const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip'];

/** The Host header's name without its port (`[::1]:3000` → `[::1]`); empty when absent. */
const hostOf = (host: string | undefined) => host?.replace(/:\d+$/, '') ?? '';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Who may read `/metrics` (process figures, every procedure's traffic). With a
 * token: whoever presents it as `Authorization: Bearer`, from anywhere.
 * Without: this machine only, asked of the socket's peer (a client can write
 * any `X-Forwarded-For`); and a request a proxy on this machine forwards is
 * not this machine's own, so one carrying a forwarding header is refused too,
 * as is one under a DNS name (a rebound page's). A proxy on this machine that
 * adds no forwarding header (TCP mode, a tunnel) does make it reachable: set a token there.
 */
export function metricsAccess(token: string | undefined): (req: IncomingMessage) => boolean {
  if (token === undefined) {
    return (req) =>
      isLoopback(normalise(req.socket.remoteAddress ?? '')) &&
      FORWARDING_HEADERS.every((name) => !req.headers[name]) &&
      // A page whose DNS name was pointed at this machine (rebinding) asks from loopback too, under its own name.
      isUnrebindable(hostOf(req.headers.host));
  }
  const expected = digest(token);
  return (req) => {
    const presented = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    // Digests are equal in length whatever was sent: the comparison tells nothing, not even the token's length.
    return presented !== undefined && timingSafeEqual(digest(presented), expected);
  };
}
