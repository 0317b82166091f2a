import {
  CloseCode,
  type ConnectionControls,
  type Context,
  type ParsedConnectionParams,
  type Principal,
} from '@tether/protocol';
import { TRPCError } from '@trpc/server';
import type { WebSocket } from 'ws';
import { closeHard } from './close-hard';
import { type Authenticate, type Credential, unauthorized } from './context';

/** setTimeout's ceiling; tokens living longer are re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One WebSocket connection's credential and subscriptions. The principal can
 * be replaced by `auth.renew`; when the current token expires without renewal
 * the connection is closed with 4401, so a stolen or stale token does not
 * outlive its expiry on an open socket.
 */
export async function openWebSocketSession(options: {
  socket: WebSocket;
  params: ParsedConnectionParams | undefined;
  authenticate: Authenticate;
  maxSubscriptions: number;
}): Promise<Context> {
  const { socket, params, authenticate, maxSubscriptions } = options;
  if (!params) throw new TRPCError({ code: 'BAD_REQUEST', message: 'connection closed during the handshake' });

  let principal: Principal | null = null;
  let expiry: ReturnType<typeof setTimeout> | undefined;
  let subscriptions = 0;
  socket.once('close', () => clearTimeout(expiry));

  const adopt = (credential: Credential) => {
    principal = credential.principal;
    clearTimeout(expiry);
    // Verification is asynchronous: the socket may have closed meanwhile, and a timer would keep it alive.
    if (socket.readyState !== socket.OPEN) return;
    const armExpiry = () => {
      const remaining = credential.expiresAt.getTime() - Date.now();
      expiry =
        remaining > MAX_TIMER_MS
          ? setTimeout(armExpiry, MAX_TIMER_MS)
          : setTimeout(() => closeHard(socket, CloseCode.Unauthorized, 'access token expired: renew it'), remaining);
    };
    armExpiry();
  };

  if (params.token) {
    try {
      adopt(await authenticate(params.token));
    } catch (error) {
      const failure = unauthorized(error);
      // An outage is not a bad token: the client reconnects with backoff instead of refreshing it.
      const code = failure.code === 'UNAUTHORIZED' ? CloseCode.Unauthorized : CloseCode.InternalError;
      closeHard(socket, code, failure.message.slice(0, 120));
      throw failure;
    }
  }

  const connection: ConnectionControls = {
    async renew(accessToken) {
      const credential = await authenticate(accessToken).catch((error: unknown) => {
        throw unauthorized(error);
      });
      if (principal && credential.principal.userId !== principal.userId) {
        throw new TRPCError({ code: 'FORBIDDEN', message: 'renew needs a token of the user already signed in' });
      }
      adopt(credential);
      return credential;
    },
    admitSubscription(signal) {
      if (subscriptions >= maxSubscriptions) {
        throw new TRPCError({
          code: 'TOO_MANY_REQUESTS',
          message: `at most ${maxSubscriptions} subscriptions per connection; stop one first`,
        });
      }
      subscriptions += 1;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        subscriptions -= 1;
        signal.removeEventListener('abort', release);
      };
      signal.addEventListener('abort', release, { once: true });
      return release;
    },
  };
  return {
    get principal() {
      return principal;
    },
    connection,
  };
}
