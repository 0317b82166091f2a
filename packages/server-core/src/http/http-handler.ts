import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import sirv from 'sirv';
import type { Metrics } from '../observability/metrics';
import { metricsAccess } from './metrics-access';
import { requestUrl } from './request-url';
import { webAppHeaders } from './security-headers';

export interface HttpHandlerOptions {
  /** Serves `/trpc/*` (the session core's `handleTrpc`). */
  trpc(req: IncomingMessage, res: ServerResponse, url: URL): void;
  /** Resolves true when the server can serve requests (store reachable, not shutting down). */
  isReady(): Promise<boolean>;
  /** Rendered at `/metrics` when given. */
  metrics?: Pick<Metrics, 'render' | 'contentType'>;
  /** When set, `/metrics` answers whoever presents it as `Authorization: Bearer`; unset, loopback peers only. */
  metricsToken?: string;
  /** The origins the web app is served at, named in its Content-Security-Policy beside `'self'`. */
  publicOrigins?: readonly string[];
  webRoot: string | undefined;
}

const PLACEHOLDER_PAGE = `<!doctype html><meta charset="utf-8"><title>Tether</title>
<h1>Tether server is running</h1><p>The web app is not built. tRPC is served at <code>/trpc</code>
(HTTP and WebSocket); health at <code>/healthz</code> and <code>/readyz</code>.</p>`;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** One port: `/trpc` (HTTP batch + SSE), health probes, `/metrics`, and the built web app. */
export function createHttpHandler(options: HttpHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { isReady, webRoot, metrics } = options;
  const web = webRoot && existsSync(webRoot) ? sirv(webRoot, { single: true, etag: true, gzip: true }) : null;
  const pageHeaders = Object.entries(webAppHeaders(options.publicOrigins));
  const mayReadMetrics = metricsAccess(options.metricsToken);

  return (req, res) => {
    // On every answer: a browser must never guess a type other than the one sent (JSON read as HTML, say).
    res.setHeader('x-content-type-options', 'nosniff');
    const url = requestUrl(req);
    if (!url) return sendJson(res, 400, { error: 'bad request target' });
    const { pathname } = url;
    if (pathname.startsWith('/trpc/')) return options.trpc(req, res, url);
    if (pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (pathname === '/readyz') {
      isReady().then(
        (ready) => sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable' }),
        () => sendJson(res, 503, { status: 'unavailable' }),
      );
      return;
    }
    if (pathname === '/metrics' && metrics) {
      // To whoever may not read it, as if there were nothing there.
      if (!mayReadMetrics(req)) return sendJson(res, 404, { error: 'not found' });
      metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        () => sendJson(res, 500, { error: 'metrics unavailable' }),
      );
      return;
    }
    // sirv keeps headers already set: every page and asset of the app carries these.
    for (const [name, value] of pageHeaders) res.setHeader(name, value);
    if (web) return web(req, res, () => sendJson(res, 404, { error: 'not found' }));
    if (pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PLACEHOLDER_PAGE);
      return;
    }
    sendJson(res, 404, { error: 'not found' });
  };
}
