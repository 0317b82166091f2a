import { SLOW_DOWN_CLOSE_CODES } from '@tether/protocol/wire';
import { fullJitterBackoff, type RetryOptions } from './backoff';

export interface CloseInfo {
  code: number;
  reason: string;
}

export interface PacerSnapshot {
  /** Sockets currently open (a replacement may open while the old one still serves). */
  openSockets: number;
  /** Whether any socket has ever opened. */
  everConnected: boolean;
  /** Attempts started since a connection last stayed open (1 = the first retry). */
  attempt: number;
  /** When the waiting attempt will start (epoch ms), or null when none waits. */
  retryAt: number | null;
  /** The most recent close, kept for display. */
  lastClose: CloseInfo | null;
  /** The close since a connection last stayed open: what decides a token refresh or a longer backoff. */
  recentClose: CloseInfo | null;
}

export interface PacerOptions {
  retry: RetryOptions;
  /** Added to the attempt number after 1013 or 4429, so the server is given more room. @default 3 */
  slowDownAttempts?: number;
  random?: () => number;
  now?: () => number;
}

/**
 * Decides when each connection attempt may start: the first at once, later
 * ones after a full-jitter delay that grows with the attempts since a
 * connection last stayed open, longer after "slow down" close codes.
 * `retryNow()` cuts a wait short (browser back online, user clicked retry).
 */
export function createPacer(options: PacerOptions) {
  const { retry, slowDownAttempts = 3, random = Math.random, now = Date.now } = options;
  const state: PacerSnapshot = {
    openSockets: 0,
    everConnected: false,
    attempt: 0,
    retryAt: null,
    lastClose: null,
    recentClose: null,
  };
  const listeners = new Set<() => void>();
  let wake: (() => void) | null = null;
  const changed = () => {
    for (const listener of [...listeners]) listener();
  };

  function delayFor(attemptIndex: number): number {
    const slowDown = state.recentClose !== null && SLOW_DOWN_CLOSE_CODES.has(state.recentClose.code);
    return fullJitterBackoff(attemptIndex + (slowDown ? slowDownAttempts : 0), retry, random);
  }
  /** The very first connection goes out at once and is not a retry. */
  const isFirstConnection = () => !state.everConnected && state.lastClose === null;

  return {
    snapshot: (): Readonly<PacerSnapshot> => state,
    onChange(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Resolves when the next attempt may start; rejects if `signal` aborts first. */
    waitTurn(signal: AbortSignal): Promise<void> {
      // An abort listener added to an aborted signal never fires: check first.
      if (signal.aborted) return Promise.reject(signal.reason);
      if (isFirstConnection()) return Promise.resolve();
      const delay = delayFor(state.attempt);
      state.attempt += 1;
      if (delay === 0) {
        changed();
        return Promise.resolve();
      }
      return new Promise((resolve, reject) => {
        const go = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', abort);
          if (wake === go) wake = null;
          state.retryAt = null;
          changed();
          resolve();
        };
        const abort = () => {
          clearTimeout(timer);
          if (wake === go) wake = null;
          state.retryAt = null;
          reject(signal.reason);
        };
        const timer = setTimeout(go, delay);
        wake = go;
        state.retryAt = now() + delay;
        signal.addEventListener('abort', abort, { once: true });
        changed();
      });
    },
    /** Starts a waiting attempt now. */
    retryNow(): void {
      wake?.();
    },
    opened(): void {
      state.openSockets += 1;
      state.everConnected = true;
      changed();
    },
    /** The connection stayed open long enough to count as a success: backoff starts over. */
    stable(): void {
      state.attempt = 0;
      state.recentClose = null;
    },
    closed(close: CloseInfo, wasOpen: boolean): void {
      if (wasOpen) state.openSockets -= 1;
      state.lastClose = close;
      state.recentClose = close;
      changed();
    },
  };
}

export type Pacer = ReturnType<typeof createPacer>;
