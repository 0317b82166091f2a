/** How the client reaches the server: one WebSocket, or HTTP batches and SSE streams when WebSocket is blocked. */
export type Transport = 'websocket' | 'http';

/** The connection as an application sees it (docs/ARCHITECTURE.md, "Reconnect and resume"). */
export type ConnectionStatus = TransportStatus & { transport: Transport };

/** One transport's state, before the link says which transport it is. */
export type TransportStatus = LastClose &
  (
    | { state: 'connecting' }
    | { state: 'connected' }
    /** `retryAt`: when the waiting attempt starts (epoch ms); null while one is under way. */
    | { state: 'reconnecting'; attempt: number; retryAt: number | null }
    | { state: 'closed'; reason: ClosedReason }
  );

/** Every status carries the most recent close, so a UI can say why it is (re)connecting. */
export interface LastClose {
  lastCloseCode: number | null;
  lastCloseReason: string;
}

/**
 * Why a client stopped: disposed by the application; told by the server that
 * retrying cannot help (1000, 4426); or its token was refused and getToken
 * could not supply a fresh one (4401).
 */
export type ClosedReason = 'disposed' | 'upgrade-required' | 'server-closed' | 'unauthorized';

export type ConnectionState = ConnectionStatus['state'];

export interface StatusObservable {
  get(): ConnectionStatus;
  /** Calls `listener` on every change; returns the unsubscribe function. */
  subscribe(listener: (status: ConnectionStatus) => void): () => void;
  /** Resolves on the first status in `state` (now or later); rejects if the client closes first. */
  waitFor(state: ConnectionState, options?: { signal?: AbortSignal }): Promise<ConnectionStatus>;
}

/** Field by field: a status has at most seven, all of them plain values. */
function sameStatus(a: ConnectionStatus, b: ConnectionStatus): boolean {
  const keys = Object.keys(a) as Array<keyof ConnectionStatus>;
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

export function createStatus(initial: ConnectionStatus): StatusObservable & { set(status: ConnectionStatus): void } {
  let current = initial;
  const listeners = new Set<(status: ConnectionStatus) => void>();
  const subscribe = (listener: (status: ConnectionStatus) => void) => {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  };
  return {
    get: () => current,
    set(status) {
      if (sameStatus(status, current)) return;
      current = status;
      for (const listener of [...listeners]) listener(status);
    },
    subscribe,
    waitFor(state, { signal } = {}) {
      if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
      return new Promise((resolve, reject) => {
        const check = (status: ConnectionStatus) => {
          if (status.state === state) {
            stop();
            resolve(status);
          } else if (status.state === 'closed') {
            stop();
            reject(new Error(`connection closed (${status.reason}) before it was ${state}`));
          }
        };
        const onAbort = () => {
          stop();
          reject(signal?.reason ?? new Error('aborted'));
        };
        const unsubscribe = subscribe(check);
        const stop = () => {
          unsubscribe();
          signal?.removeEventListener('abort', onAbort);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        check(current);
      });
    },
  };
}
