import type { TetherClient } from '@tether/client';
import type { AppRouter, AuthSession } from '@tether/protocol';
import { createTRPCClient, httpLink, retryLink, type TRPCClient, TRPCClientError } from '@trpc/client';
import superjson from 'superjson';
import type { Credentials } from './credentials';
import { NotSignedInError } from './errors';
import type { Output } from './output';

/** Refresh when the access token has less than this left. */
const REFRESH_MARGIN_MS = 30_000;
/** A call refused for the server's rate limit is sent again this many times, at the server's pace, before it fails. */
const RATE_LIMIT_ATTEMPTS = 30;

/**
 * Waits out the server's rate limit: a call it refused with 429 never ran,
 * so it is safe to send again (a mutation too), after the server's
 * `Retry-After` and a little jitter, so that a script's calls (an import's,
 * say) go at the pace the server allows instead of failing.
 */
function rateLimitRetry() {
  let waitMs = 0;
  return retryLink<AppRouter>({
    retry({ error, attempts }) {
      if (error.data?.code !== 'TOO_MANY_REQUESTS' || attempts >= RATE_LIMIT_ATTEMPTS) return false;
      const response = (error.meta as { response?: Response } | undefined)?.response;
      const seconds = Number(response?.headers.get('retry-after'));
      waitMs = (Number.isFinite(seconds) && seconds > 0 ? seconds : 1) * 1000 + Math.random() * 500;
      return true;
    },
    // Asked right after `retry` for the same call (tRPC's retryLink), so it reads what `retry` just set.
    retryDelayMs: () => waitMs,
  });
}

export interface CommandIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  /** Resolves when the user asks to stop (Ctrl-C); streaming commands end cleanly on it. */
  interrupted: Promise<void>;
}

/** What every command receives: where to talk, how to print, and who is signed in. */
export function createContext(
  url: string,
  output: Output,
  credentials: Credentials,
  io: CommandIo,
  /** TETHER_TOKEN: used as is, instead of the saved session. */
  fixedToken?: string,
) {
  const http = (token?: string): TRPCClient<AppRouter> =>
    createTRPCClient<AppRouter>({
      links: [
        rateLimitRetry(),
        httpLink({
          url: `${url}/trpc`,
          transformer: superjson,
          headers: () => (token ? { authorization: `Bearer ${token}` } : {}),
        }),
      ],
    });

  /** The saved session, refreshed (and saved again) when its access token is about to expire. */
  async function session(forceRefresh = false): Promise<AuthSession> {
    const saved = await credentials.get(url);
    if (!saved) throw new NotSignedInError(`not signed in to ${url}`);
    if (!forceRefresh && saved.accessTokenExpiresAt.getTime() - Date.now() > REFRESH_MARGIN_MS) return saved;
    try {
      const fresh = await http().auth.refresh.mutate({ refreshToken: saved.refreshToken });
      await credentials.set(url, fresh);
      return fresh;
    } catch (error) {
      if (error instanceof TRPCClientError && error.data?.code === 'UNAUTHORIZED') {
        await credentials.set(url, null);
        throw new NotSignedInError(`the saved session for ${url} has ended`);
      }
      throw error;
    }
  }

  return {
    url,
    output,
    credentials,
    io,
    /** Anonymous calls (sign-in, health). */
    anonymous: () => http(),
    /** One-shot calls as the signed-in user (or TETHER_TOKEN), over HTTP (no socket to open and close). */
    api: async () => http(fixedToken ?? (await session()).accessToken),
    session,
    /** A WebSocket client for streams; it refreshes the token itself when the server asks. */
    async live(): Promise<TetherClient> {
      if (!fixedToken) await session();
      const { createTetherClient } = await import('@tether/client/node');
      return createTetherClient({
        url: `${url.replace(/^http/, 'ws')}/trpc`,
        clientName: 'tether-cli',
        getToken: async ({ forceRefresh }) => {
          if (fixedToken) return forceRefresh ? null : fixedToken;
          const current = await session(forceRefresh);
          return { token: current.accessToken, expiresAt: current.accessTokenExpiresAt };
        },
      });
    },
  };
}

export type Context = ReturnType<typeof createContext>;
