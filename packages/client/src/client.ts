import type { AnyTetherRouter, AppRouter, ConnectionParams } from '@tether/protocol';
import { CloseCode, FATAL_CLOSE_CODES, PROTOCOL_VERSION } from '@tether/protocol/wire';
import { createTRPCClient, createWSClient, type TRPCClient, wsLink } from '@trpc/client';
import superjson from 'superjson';
import { type AccessToken, normalizeToken, renewalDelayMs } from './access-token';
import { idempotentRetryLink, timeoutLink } from './links';
import { resolveOptions, type TetherClientOptions } from './options';
import { createPacedWebSocket } from './paced-websocket';
import { createPacer } from './pacer';
import { type ClosedReason, type ConnectionStatus, createStatus, type StatusObservable } from './status';
import { onWakeSignals } from './wake-signals';

/** A client of any Tether server; typed by default for the chat's `AppRouter`. */
export interface TetherClient<TRouter extends AnyTetherRouter = AppRouter> {
  /** Typed procedures: `client.trpc.messages.send.mutate(...)`, `client.trpc.rooms.events.subscribe(...)`. */
  readonly trpc: TRPCClient<TRouter>;
  /** Connection status: `connecting`, `connected`, `reconnecting`, `closed`. */
  readonly status: StatusObservable;
  /** Skips the rest of a reconnect wait (a "retry now" button). */
  reconnectNow(): void;
  /** Closes the socket and stops every timer; the client cannot be used afterwards. */
  dispose(): Promise<void>;
}

/** setTimeout's ceiling (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

function closedReasonFor(code: number): ClosedReason {
  return code === CloseCode.UpgradeRequired ? 'upgrade-required' : 'server-closed';
}

/**
 * A typed client over one WebSocket: superjson, heartbeat, full-jitter
 * reconnect paced by close codes, requests queued while disconnected (with a
 * timeout), keyed mutations retried after a drop, and the access token sent
 * as connectionParams, refreshed after 4401 and renewed before it expires.
 */
export function createTetherClient<TRouter extends AnyTetherRouter = AppRouter>(
  options: TetherClientOptions,
): TetherClient<TRouter> {
  const resolved = resolveOptions(options);
  const { url, getToken, clientName, keepAlive, reconnect, requests, renewBeforeMs } = resolved;
  const lifetime = new AbortController();
  const pacer = createPacer({ retry: reconnect, slowDownAttempts: reconnect.slowDownAttempts });
  const status = createStatus({ state: 'connecting', lastCloseCode: null, lastCloseReason: '' });
  let renewal: ReturnType<typeof setTimeout> | undefined;

  const render = (): ConnectionStatus => {
    const snap = pacer.snapshot();
    const last = { lastCloseCode: snap.lastClose?.code ?? null, lastCloseReason: snap.lastClose?.reason ?? '' };
    if (snap.openSockets > 0) return { state: 'connected', ...last };
    if (!snap.everConnected && snap.lastClose === null) return { state: 'connecting', ...last };
    const retryInMs = snap.retryAt === null ? 0 : Math.max(0, snap.retryAt - Date.now());
    return { state: 'reconnecting', attempt: Math.max(1, snap.attempt), retryInMs, ...last };
  };
  const stopPacing = pacer.onChange(() => {
    if (lifetime.signal.aborted) return;
    const close = pacer.snapshot().lastClose;
    if (close && FATAL_CLOSE_CODES.has(close.code) && pacer.snapshot().openSockets === 0) {
      void shutdown(closedReasonFor(close.code));
      return;
    }
    status.set(render());
  });
  const stopWakeSignals = onWakeSignals(() => pacer.retryNow());

  /** getToken's answer, or a rejection once the client is disposed (so `dispose()` never waits on it). */
  function askForToken(forceRefresh: boolean): Promise<AccessToken | null> {
    return new Promise((resolve, reject) => {
      const onDispose = () => reject(lifetime.signal.reason);
      if (lifetime.signal.aborted) return onDispose();
      lifetime.signal.addEventListener('abort', onDispose, { once: true });
      Promise.resolve(getToken({ forceRefresh }))
        .then(normalizeToken)
        .then(resolve, reject)
        .finally(() => lifetime.signal.removeEventListener('abort', onDispose));
    });
  }

  async function tokenForConnection(): Promise<AccessToken | null> {
    const forceRefresh = pacer.snapshot().recentClose?.code === CloseCode.Unauthorized;
    const token = await askForToken(forceRefresh).catch((error: unknown) => {
      if (forceRefresh) void shutdown('unauthorized');
      throw error;
    });
    if (forceRefresh && !token) {
      void shutdown('unauthorized');
      throw new Error('the server refused the token and getToken could not supply a fresh one');
    }
    scheduleRenewal(token);
    return token;
  }

  /** Renews on the open socket before expiry; if it cannot, the server closes 4401 at expiry and the reconnect refreshes. */
  function scheduleRenewal(token: AccessToken | null): void {
    clearTimeout(renewal);
    if (!token?.expiresAt || lifetime.signal.aborted) return;
    const delay = renewalDelayMs(token.expiresAt, renewBeforeMs);
    if (delay > MAX_TIMER_MS) {
      // setTimeout fires at once beyond its ceiling: wait in steps instead.
      renewal = setTimeout(() => scheduleRenewal(token), MAX_TIMER_MS);
      return;
    }
    renewal = setTimeout(async () => {
      try {
        const fresh = await askForToken(true);
        if (!fresh || lifetime.signal.aborted) return;
        await trpc.connection.renew.mutate({ accessToken: fresh.token });
        scheduleRenewal(fresh);
      } catch {
        // Left to the server: it closes 4401 at expiry, and the reconnect asks for a fresh token.
      }
    }, delay);
  }

  const wsClient = createWSClient({
    url,
    // tRPC's options type wants the DOM constructor; the paced socket implements what tRPC uses of it.
    WebSocket: createPacedWebSocket({
      Real: resolved.WebSocket,
      pacer,
      connectTimeoutMs: reconnect.connectTimeoutMs,
      closeTimeoutMs: reconnect.closeTimeoutMs,
      stableAfterMs: reconnect.stableAfterMs,
      signal: lifetime.signal,
    }) as unknown as typeof globalThis.WebSocket,
    // Pacing happens in the paced socket, so tRPC itself never waits.
    retryDelayMs: () => 0,
    connectionParams: async (): Promise<ConnectionParams> => {
      const token = await tokenForConnection();
      return {
        protocolVersion: String(PROTOCOL_VERSION),
        client: clientName,
        ...(token ? { token: token.token } : {}),
      };
    },
    keepAlive: { enabled: true, ...keepAlive },
  });

  // Typed here for what the runtime itself calls (`connection.*`); callers get their own router's types.
  const trpc = createTRPCClient<AnyTetherRouter>({
    links: [
      timeoutLink(requests.timeoutMs, () => status.get().state),
      idempotentRetryLink(requests.mutationAttempts, () => !lifetime.signal.aborted),
      wsLink({ client: wsClient, transformer: superjson }),
    ],
  });

  async function shutdown(reason: ClosedReason): Promise<void> {
    if (lifetime.signal.aborted) return;
    lifetime.abort(new Error(`client closed: ${reason}`));
    clearTimeout(renewal);
    stopPacing();
    stopWakeSignals();
    const close = pacer.snapshot().lastClose;
    status.set({ state: 'closed', reason, lastCloseCode: close?.code ?? null, lastCloseReason: close?.reason ?? '' });
    await wsClient.close();
  }

  return {
    trpc: trpc as TRPCClient<TRouter>,
    status,
    reconnectNow: () => pacer.retryNow(),
    dispose: () => shutdown('disposed'),
  };
}
