import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { WithConnectionRouter } from './core/connection-router';
import { createAuthRouter } from './routers/auth';
import { createMessagesRouter } from './routers/messages';
import { createRoomsRouter } from './routers/rooms';
import { createTokensRouter } from './routers/tokens';
import type { Services } from './services';
import { router } from './trpc';

/**
 * Builds the chat's router from a server's implementation of `Services`. The
 * server's session core serves it with the generic `connection` router merged
 * in; `AppRouter` is that whole, and depends only on this package, so
 * consumers never import server code.
 */
export function createAppRouter(services: Services) {
  return router({
    auth: createAuthRouter(services.auth),
    rooms: createRoomsRouter(services.rooms),
    messages: createMessagesRouter(services.messages),
    tokens: createTokensRouter(services.tokens),
  });
}

/** What a Tether chat server serves: the chat's procedures and `connection.*`. */
export type AppRouter = WithConnectionRouter<ReturnType<typeof createAppRouter>>;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
