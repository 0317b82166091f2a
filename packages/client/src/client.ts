import {
  type AppRouter,
  CloseCode,
  type ConnectionParams,
  FATAL_CLOSE_CODES,
  PROTOCOL_VERSION,
} from '@tether/protocol';
import { createTRPCClient, createWSClient, type TRPCClient, wsLink } from '@trpc/client';
import superjson from 'superjson';
import { fullJitterBackoff } from './backoff';
import { resolveOptions, type TetherClientOptions } from './options';
import { type ClosedReason, createStatus, type StatusObservable } from './status';

export interface TetherClient {
  /** Typed procedures: `client.trpc.messages.send.mutate(...)`, `client.trpc.rooms.events.subscribe(...)`. */
  readonly trpc: TRPCClient<AppRouter>;
  /** Connection status: `connecting`, `connected`, `reconnecting`, `closed`. */
  readonly status: StatusObservable;
  /** Closes the socket and stops every timer; the client cannot be used afterwards. */
  dispose(): Promise<void>;
}

function closedReasonFor(code: number): ClosedReason {
  return code === CloseCode.UpgradeRequired ? 'upgrade-required' : 'server-closed';
}

/**
 * A typed client over one WebSocket: superjson, heartbeat, full-jitter
 * reconnect, and the access token sent as connectionParams (asked of
 * `getToken` again before every connection, so a refreshed token is used).
 */
export function createTetherClient(options: TetherClientOptions): TetherClient {
  const { url, getToken, clientName, keepAlive, retry, WebSocket } = resolveOptions(options);
  const status = createStatus({ state: 'connecting' });
  let lastClose: { code: number | null; reason: string } = { code: null, reason: '' };
  /** The retry tRPC has scheduled, so a status shown later can say how long is left. */
  let scheduled: { attempt: number; at: number } = { attempt: 1, at: 0 };
  let disposed = false;

  // tRPC opens a replacement socket while the old one still serves (after a
  // server's reconnect notice); until no socket is open, the client is connected.
  const isSocketOpen = () => wsClient.connection?.state === 'open';
  const showReconnecting = () => {
    if (disposed || isSocketOpen()) return;
    status.set({
      state: 'reconnecting',
      attempt: scheduled.attempt,
      retryInMs: Math.max(0, scheduled.at - Date.now()),
      lastCloseCode: lastClose.code,
      lastCloseReason: lastClose.reason,
    });
  };

  const wsClient = createWSClient({
    url,
    // tRPC's options type wants the DOM constructor; `ws` and browsers both provide one that fits at run time.
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: async (): Promise<ConnectionParams> => {
      const token = await getToken();
      return { protocolVersion: String(PROTOCOL_VERSION), client: clientName, ...(token ? { token } : {}) };
    },
    keepAlive: { enabled: true, ...keepAlive },
    retryDelayMs: (attemptIndex) => {
      const retryInMs = fullJitterBackoff(attemptIndex, retry);
      scheduled = { attempt: attemptIndex + 1, at: Date.now() + retryInMs };
      showReconnecting();
      return retryInMs;
    },
    onOpen: () => {
      if (!disposed) status.set({ state: 'connected' });
    },
    onClose: (event) => {
      if (disposed) return;
      // tRPC passes the CloseEvent, though its type names only `code`.
      const closeEvent = event as { code?: number; reason?: string } | undefined;
      lastClose = { code: closeEvent?.code ?? null, reason: closeEvent?.reason ?? '' };
      if (lastClose.code !== null && FATAL_CLOSE_CODES.has(lastClose.code)) {
        void shutdown({ state: 'closed', reason: closedReasonFor(lastClose.code), lastCloseCode: lastClose.code });
      } else {
        showReconnecting();
      }
    },
  });

  async function shutdown(final: Parameters<typeof status.set>[0]): Promise<void> {
    if (disposed) return;
    disposed = true;
    status.set(final);
    await wsClient.close();
  }

  return {
    trpc: createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient, transformer: superjson })] }),
    status,
    dispose: () => shutdown({ state: 'closed', reason: 'disposed', lastCloseCode: lastClose.code }),
  };
}
