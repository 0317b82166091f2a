import WebSocket from 'ws';
import { createTetherClient as createUniversalClient, type TetherClient } from './client';
import type { TetherClientOptions, WebSocketConstructor } from './options';

export * from './index';

/** `createTetherClient` for Node 20, which has no global WebSocket: uses `ws`. */
export function createTetherClient(options: TetherClientOptions): TetherClient {
  return createUniversalClient({ WebSocket: WebSocket as unknown as WebSocketConstructor, ...options });
}
