import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppRouter } from '@tether/protocol';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import sirv from 'sirv';
import type { Logger } from '../logger';
import { type Authenticate, createHttpContext } from './context';
import { createProcedureErrorLog } from './procedure-errors';
import { requestUrl } from './request-url';

export interface HttpHandlerOptions {
  router: AppRouter;
  authenticate: Authenticate;
  /** Resolves true when the server can serve requests (store reachable, not shutting down). */
  isReady(): Promise<boolean>;
  webRoot: string | undefined;
  maxBodyBytes: number;
  logger: Logger;
}

const PLACEHOLDER_PAGE = `<!doctype html><meta charset="utf-8"><title>Tether</title>
<h1>Tether server is running</h1><p>The web app is not built. tRPC is served at <code>/trpc</code>
(HTTP and WebSocket); health at <code>/healthz</code> and <code>/readyz</code>.</p>`;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** One port: `/trpc` (HTTP batch + SSE), health probes, and the built web app. */
export function createHttpHandler(options: HttpHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { router, authenticate, isReady, webRoot, logger } = options;
  const trpc = createHTTPHandler({
    router,
    basePath: '/trpc/',
    maxBodySize: options.maxBodyBytes,
    createContext: ({ req }) => createHttpContext(authenticate, req),
    onError: createProcedureErrorLog(logger, 'http'),
  });
  const web = webRoot && existsSync(webRoot) ? sirv(webRoot, { single: true, etag: true, gzip: true }) : null;

  return (req, res) => {
    const url = requestUrl(req);
    if (!url) return sendJson(res, 400, { error: 'bad request target' });
    const { pathname } = url;
    if (pathname === '/trpc' || pathname.startsWith('/trpc/')) return trpc(req, res);
    if (pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (pathname === '/readyz') {
      isReady().then(
        (ready) => sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable' }),
        () => sendJson(res, 503, { status: 'unavailable' }),
      );
      return;
    }
    if (web) return web(req, res, () => sendJson(res, 404, { error: 'not found' }));
    if (pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PLACEHOLDER_PAGE);
      return;
    }
    sendJson(res, 404, { error: 'not found' });
  };
}
