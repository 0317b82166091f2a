import type { IncomingMessage } from 'node:http';

/**
 * Browsers always send Origin on a WebSocket upgrade; other clients need not.
 * A browser may connect from the server's own origin or from one on the allowlist
 * (`*` allows any), which stops other sites from using a visitor's session.
 */
export function isOriginAllowed(req: IncomingMessage, allowedOrigins: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowedOrigins.includes('*') || allowedOrigins.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
