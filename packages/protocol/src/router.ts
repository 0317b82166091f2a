import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { createAuthRouter } from './routers/auth';
import { createMessagesRouter } from './routers/messages';
import { createRoomsRouter } from './routers/rooms';
import { createSystemRouter } from './routers/system';
import { createTokensRouter } from './routers/tokens';
import type { Services } from './services';
import { router } from './trpc';

/**
 * Builds the router from a server's implementation of `Services`. The router's
 * type (`AppRouter`) depends only on this package, so consumers never import server code.
 */
export function createAppRouter(services: Services) {
  return router({
    auth: createAuthRouter(services.auth),
    rooms: createRoomsRouter(services.rooms),
    messages: createMessagesRouter(services.messages),
    system: createSystemRouter(services.system),
    tokens: createTokensRouter(services.tokens),
  });
}

export type AppRouter = ReturnType<typeof createAppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
