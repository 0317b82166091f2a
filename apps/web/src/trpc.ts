import type { AppRouter } from '@tether/protocol';
import { createTRPCClient, httpLink } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import superjson from 'superjson';

/** Hooks over the signed-in WebSocket client: `useTRPC()` for query options, `useTRPCClient()` for calls. */
export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/** Anonymous calls (sign-in, refresh) go over HTTP: they must not wait on the socket they are authorising. */
export const httpApi = createTRPCClient<AppRouter>({
  links: [httpLink({ url: '/trpc', transformer: superjson })],
});

/** The WebSocket endpoint on the page's own origin. */
export function webSocketUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/trpc`;
}
