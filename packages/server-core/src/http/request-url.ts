import type { IncomingMessage } from 'node:http';

/** The request's URL, or null when its target does not parse (a hostile `//[`, say): never throws. */
export function requestUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return null;
  }
}
