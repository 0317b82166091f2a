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
export { DEFAULT_RETRY, fullJitterBackoff, type RetryOptions } from './backoff';
export { createTetherClient, type TetherClient } from './client';
export {
  DEFAULT_KEEP_ALIVE,
  type KeepAliveOptions,
  type TetherClientOptions,
  type WebSocketConstructor,
} from './options';
export type { ClosedReason, ConnectionState, ConnectionStatus, StatusObservable } from './status';
