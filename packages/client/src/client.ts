import type { AnyTetherRouter, AppRouter, ConnectionParams } from '@tether/protocol';
import { PROTOCOL_VERSION } from '@tether/protocol/wire';
import type { TRPCClient } from '@trpc/client';
import { type AccessToken, normalizeToken, renewalDelayMs } from './access-token';
import { TetherUntypedClient } from './direct-calls';
import { createTetherLink } from './link/tether-link';
import { resolveOptions, type TetherClientOptions } from './options';
import { type ClosedReason, createStatus, type StatusObservable } from './status';
import { createTypedProxy } from './typed-proxy';
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

/**
 * A typed client over one WebSocket that Tether's own link owns: superjson,
 * heartbeat, full-jitter reconnect paced by close codes, requests queued
 * while disconnected (with a timeout), keyed mutations retried after a drop,
 * subscriptions resumed from their last tracked id, and the access token sent
 * as connectionParams, refreshed after 4401 and renewed before it expires.
 */
export function createTetherClient<TRouter extends AnyTetherRouter = AppRouter>(
  options: TetherClientOptions,
): TetherClient<TRouter> {
  const resolved = resolveOptions(options);
  const { url, getToken, clientName, keepAlive, reconnect, requests, renewBeforeMs, fallback } = resolved;
  const lifetime = new AbortController();
  const status = createStatus({
    state: 'connecting',
    transport: 'websocket',
    lastCloseCode: null,
    lastCloseReason: '',
  });
  let renewal: ReturnType<typeof setTimeout> | undefined;

  /** getToken's answer, or a rejection once the client is disposed (so `dispose()` never waits on it). */
  function askForToken(forceRefresh: boolean): Promise<AccessToken | null> {
    return new Promise((resolve, reject) => {
      const onDispose = () => reject(lifetime.signal.reason);
      if (lifetime.signal.aborted) return onDispose();
      lifetime.signal.addEventListener('abort', onDispose, { once: true });
      // Through then(): a getToken that throws at once rejects like one that fails later (the listener still goes).
      Promise.resolve()
        .then(() => getToken({ forceRefresh }))
        .then(normalizeToken)
        .then(resolve, reject)
        .finally(() => lifetime.signal.removeEventListener('abort', onDispose));
    });
  }

  /** The token for a new socket or HTTP request; null when a fresh one was needed and getToken has none. */
  async function currentToken(forceRefresh: boolean): Promise<AccessToken | null | 'none-fresh'> {
    const token = await askForToken(forceRefresh);
    if (forceRefresh && !token) return 'none-fresh';
    scheduleRenewal(token);
    return token;
  }

  /** The handshake for each new socket; null ends the connection (the server refused the token, no fresh one). */
  async function connectionParams(forceRefresh: boolean): Promise<ConnectionParams | null> {
    const token = await currentToken(forceRefresh);
    if (token === 'none-fresh') return null;
    return { protocolVersion: String(PROTOCOL_VERSION), client: clientName, ...(token ? { token: token.token } : {}) };
  }

  /** The headers of each HTTP request, when WebSocket is blocked; null as for `connectionParams`. */
  async function httpHeaders(forceRefresh: boolean): Promise<Record<string, string> | null> {
    const token = await currentToken(forceRefresh);
    if (token === 'none-fresh') return null;
    return token ? { authorization: `Bearer ${token.token}` } : {};
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
        // Over HTTP every request asks getToken, which now has the fresh token: only a socket needs telling.
        if (tether.state.transport === 'websocket') await trpc.connection.renew.mutate({ accessToken: fresh.token });
        scheduleRenewal(fresh);
      } catch {
        // Left to the server: it closes 4401 at expiry, and the reconnect asks for a fresh token.
      }
    }, delay);
  }

  const tether = createTetherLink<AnyTetherRouter>({
    url,
    WebSocket: resolved.WebSocket,
    connectionParams,
    keepAlive,
    reconnect,
    frames: { maxCalls: requests.maxCallsPerFrame, maxBytes: requests.maxFrameBytes },
    fallback: fallback.enabled
      ? { url: fallback.url, afterAttempts: fallback.afterAttempts, fetch: fallback.fetch, headers: httpHeaders }
      : null,
  });
  const stopState = tether.onStateChange((state) => {
    if (state.state === 'closed') void shutdown(state.reason);
    else status.set(state);
  });
  const stopWakeSignals = onWakeSignals(() => tether.reconnectNow());

  // Queries and mutations go straight on the link, with their timeout and safe retries; subscriptions through
  // tRPC's client. Typed here for what the runtime itself calls (`connection.*`); callers get their own router's types.
  const untyped = new TetherUntypedClient({ links: [tether.link] }, tether, {
    timeoutMs: requests.timeoutMs,
    attempts: requests.mutationAttempts,
    describeConnection: () => status.get().state,
  });
  const trpc = createTypedProxy<AnyTetherRouter>(untyped);

  async function shutdown(reason: ClosedReason): Promise<void> {
    if (lifetime.signal.aborted) return;
    lifetime.abort(new Error(`client closed: ${reason}`));
    clearTimeout(renewal);
    stopState();
    stopWakeSignals();
    tether.dispose();
    untyped.dispose();
    const { lastCloseCode, lastCloseReason, transport } = tether.state;
    status.set({ state: 'closed', reason, transport, lastCloseCode, lastCloseReason });
  }

  return {
    trpc: trpc as TRPCClient<TRouter>,
    status,
    reconnectNow: () => tether.reconnectNow(),
    dispose: () => shutdown('disposed'),
  };
}
