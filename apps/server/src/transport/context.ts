import type { IncomingMessage } from 'node:http';
import { CloseCode, type Context, type ParsedConnectionParams, type Principal } from '@tether/protocol';
import { TRPCError } from '@trpc/server';
import type { WebSocket } from 'ws';

/** Turns an access token into a principal; throws (with a message a person can act on) when it is not valid. */
export type Authenticate = (token: string) => Promise<Principal>;

function unauthorized(cause: unknown): TRPCError {
  const message = cause instanceof Error ? cause.message : 'access token invalid';
  return new TRPCError({ code: 'UNAUTHORIZED', message, cause });
}

/** HTTP: `Authorization: Bearer <token>`; no header means an anonymous caller. */
export async function createHttpContext(authenticate: Authenticate, req: IncomingMessage): Promise<Context> {
  const header = req.headers.authorization;
  if (!header) return { principal: null };
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) throw unauthorized(new Error('Authorization header must be "Bearer <token>"'));
  try {
    return { principal: await authenticate(match[1]) };
  } catch (error) {
    throw unauthorized(error);
  }
}

/**
 * WebSocket: the token from connectionParams (already checked by the handshake).
 * A bad token closes the connection with 4401 so the client knows to refresh it.
 */
export async function createWebSocketContext(
  authenticate: Authenticate,
  socket: WebSocket,
  params: ParsedConnectionParams | undefined,
): Promise<Context> {
  if (!params) throw new TRPCError({ code: 'BAD_REQUEST', message: 'connection closed during the handshake' });
  if (!params.token) return { principal: null };
  try {
    return { principal: await authenticate(params.token) };
  } catch (error) {
    const failure = unauthorized(error);
    socket.close(CloseCode.Unauthorized, failure.message.slice(0, 120));
    throw failure;
  }
}
