/**
 * The Tether connection runtime.
 *
 * @example
 * ```ts
 * import { createTetherClient } from '@tether/client';
 * const client = createTetherClient({ url: 'ws://127.0.0.1:3000/trpc', getToken: () => session.accessToken });
 * client.status.subscribe((status) => console.log(status.state));
 * const room = await client.trpc.rooms.create.mutate({ name: 'general', visibility: 'public' });
 * ```
 */
export type { GetToken, TokenResult } from './access-token';
export { DEFAULT_RETRY, fullJitterBackoff, type RetryOptions } from './backoff';
export { isConnectionLoss, RequestTimeoutError } from './call-errors';
export { createTetherClient, type TetherClient } from './client';
export {
  DEFAULT_KEEP_ALIVE,
  DEFAULT_RECONNECT,
  DEFAULT_REQUESTS,
  type KeepAliveOptions,
  type ReconnectOptions,
  type RequestOptions,
  type TetherClientOptions,
  type WebSocketConstructor,
} from './options';
export type { ClosedReason, ConnectionState, ConnectionStatus, LastClose, StatusObservable } from './status';
