import type { AnyTetherRouter, AppRouter } from '@tether/protocol';
import WebSocket from 'ws';
import { createTetherClient as createUniversalClient, type TetherClient } from './client';
import type { TetherClientOptions, WebSocketConstructor } from './options';

export * from './index';

/** `createTetherClient` for Node 20, which has no global WebSocket: uses `ws`. */
export function createTetherClient<TRouter extends AnyTetherRouter = AppRouter>(
  options: TetherClientOptions,
): TetherClient<TRouter> {
  return createUniversalClient<TRouter>({ WebSocket: WebSocket as unknown as WebSocketConstructor, ...options });
}
