import type { AuthSession, Credentials } from '@tether/protocol';
import { TRPCClientError } from '@trpc/client';
import superjson from 'superjson';
import { httpApi } from '../trpc';

const STORAGE_KEY = 'tether.session';
/** Refresh a little before expiry, so a token is never sent in its last moments. */
const EXPIRY_MARGIN_MS = 10_000;

function readStored(): AuthSession | null {
  const raw = localStorage.getItem(STORAGE_KEY);
  if (!raw) return null;
  try {
    return superjson.parse<AuthSession>(raw);
  } catch {
    return null;
  }
}

function writeStored(session: AuthSession | null): void {
  if (session) localStorage.setItem(STORAGE_KEY, superjson.stringify(session));
  else localStorage.removeItem(STORAGE_KEY);
}

/**
 * Runs `fn` holding a lock shared by this origin's tabs. Web Locks exist on
 * secure origins (HTTPS, localhost); elsewhere tabs refresh independently and
 * may revoke each other's session: serve Tether over HTTPS.
 */
function acrossTabs<T>(fn: () => Promise<T>): Promise<T> {
  return navigator.locks ? (navigator.locks.request('tether.session.refresh', fn) as Promise<T>) : fn();
}

const stillValid = (session: AuthSession) => session.accessTokenExpiresAt.getTime() - Date.now() > EXPIRY_MARGIN_MS;

/**
 * The signed-in session, kept in localStorage so a reload stays signed in.
 * Refresh tokens rotate on every use and a reused one revokes its family, so
 * refreshes are serialised across tabs and a tab adopts the session another
 * tab already refreshed instead of presenting the old token again.
 */
export function createSessionStore() {
  let session = readStored();
  const listeners = new Set<() => void>();
  const set = (next: AuthSession | null) => {
    session = next;
    writeStored(next);
    for (const listener of [...listeners]) listener();
  };
  // Another tab signed in, refreshed or signed out.
  addEventListener('storage', (event) => {
    if (event.key !== STORAGE_KEY) return;
    session = readStored();
    for (const listener of [...listeners]) listener();
  });

  let refreshing: Promise<AuthSession | null> | null = null;
  const refresh = () =>
    acrossTabs(async () => {
      const stored = readStored();
      if (stored && session && stored.refreshToken !== session.refreshToken) {
        set(stored);
        return stored;
      }
      if (!session) return null;
      const used = session.refreshToken;
      try {
        const next = await httpApi.auth.refresh.mutate({ refreshToken: used });
        // Signed out (or replaced) while the refresh was out: that result must not sign anyone back in.
        if (session?.refreshToken !== used) return session;
        set(next);
        return next;
      } catch (error) {
        if (error instanceof TRPCClientError && error.data?.code === 'UNAUTHORIZED') set(null);
        throw error;
      }
    });

  return {
    get: () => session,
    subscribe(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async signIn(credentials: Credentials, mode: 'signIn' | 'signUp'): Promise<void> {
      set(await (mode === 'signIn' ? httpApi.auth.signIn : httpApi.auth.signUp).mutate(credentials));
    },
    async signOut(): Promise<void> {
      const current = session;
      set(null);
      if (current) await httpApi.auth.signOut.mutate({ refreshToken: current.refreshToken }).catch(() => {});
    },
    /** For `@tether/client`'s getToken: the current token, refreshed when asked or about to expire. */
    async accessToken(forceRefresh: boolean): Promise<{ token: string; expiresAt: Date } | null> {
      if (session && !forceRefresh && stillValid(session)) {
        return { token: session.accessToken, expiresAt: session.accessTokenExpiresAt };
      }
      refreshing ??= refresh().finally(() => {
        refreshing = null;
      });
      const next = await refreshing;
      return next && { token: next.accessToken, expiresAt: next.accessTokenExpiresAt };
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
