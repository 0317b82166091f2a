import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** Which browser origins may call the server (WebSocket upgrades, and HTTP requests that carry an `Origin`). */
export interface OriginPolicy {
  /** Other sites allowed in, exactly as browsers send them (`*`: any). */
  allowed: readonly string[];
  /** The origins the server itself is reached at, serialized (`https://chat.example.com`). */
  public: readonly string[];
}

/** The URL's serialized origin; null for what is not a URL or has an opaque origin (`null`, `file:`, `data:`). */
function originOf(value: string): URL | null {
  try {
    const url = new URL(value);
    return url.origin === 'null' ? null : url;
  } catch {
    return null;
  }
}

/**
 * A configured origin: `http(s)://host[:port]` and nothing more, serialized as
 * browsers send `Origin` (lower case, default port dropped), so comparing
 * strings is enough; null for anything else.
 */
export function parseOrigin(value: string): string | null {
  const url = originOf(value);
  if (!url) return null;
  const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
  return bare && (url.protocol === 'https:' || url.protocol === 'http:') ? url.origin : null;
}

/** The policy for the given settings; a public origin that is not one throws, naming it. */
export function originPolicy(allowed: readonly string[] = [], publicOrigins: readonly string[] = []): OriginPolicy {
  return {
    allowed,
    public: publicOrigins.map((origin) => {
      const parsed = parseOrigin(origin);
      if (parsed === null) throw new TypeError(`not an origin: ${origin}`);
      return parsed;
    }),
  };
}

/**
 * Names only this machine can answer to: an IP literal is where it points,
 * and browsers resolve `localhost` to loopback themselves. Any other name is
 * whatever its DNS says at the moment, so a page of `evil.example` can have
 * its name pointed at this server (DNS rebinding) and send `Origin` and
 * `Host` that agree.
 */
export function isUnrebindable(hostname: string): boolean {
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  return bare === 'localhost' || isIP(bare) !== 0;
}

/**
 * Browsers always send Origin on a WebSocket upgrade (and on cross-site or
 * non-GET HTTP requests); other clients need not, so no Origin is allowed.
 * Otherwise the origin must be on the allowlist, or one of the server's public
 * origins. Without public origins configured, a page served by this server
 * (Origin equal to Host) is let in only under a name DNS cannot rebind, which
 * keeps `http://127.0.0.1:3000` and `http://localhost:3000` working with no setup.
 */
export function isOriginAllowed(req: IncomingMessage, policy: OriginPolicy): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (policy.allowed.includes('*') || policy.allowed.includes(origin)) return true;
  // `null` (a sandboxed frame, a file, a no-referrer POST) and anything else that is not a URL is nobody's origin.
  const url = originOf(origin);
  if (!url) return false;
  if (policy.public.length > 0) return policy.public.includes(url.origin);
  return url.host === req.headers.host && isUnrebindable(url.hostname);
}
