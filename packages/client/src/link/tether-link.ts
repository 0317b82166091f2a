import { TRPCClientError, type TRPCLink } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { observable } from '@trpc/server/observable';
import type { TRPCResponseMessage } from '@trpc/server/rpc';
import { transformResult } from '@trpc/server/unstable-core-do-not-import';
import superjson from 'superjson';
import { callUserCode } from './call-user-code';
import { Connection, type ConnectionOptions, type ConnectionState } from './connection';
import { Requests } from './requests';

/** The link ended (disposed, or told by the server that retrying cannot help): no request is answered. */
export class ClientClosedError extends Error {
  constructor(reason: string) {
    super(`the client is closed (${reason})`);
    this.name = 'ClientClosedError';
  }
}

/** A query or mutation's answer that will not come: its socket went away after it was sent. */
export class ConnectionLostError extends Error {
  constructor(path: string) {
    super(`${path}: the connection was lost before the answer came`);
    this.name = 'ConnectionLostError';
  }
}

export interface TetherLink<TRouter extends AnyTRPCRouter> {
  /** The link for `createTRPCClient({ links: [..., link] })`. */
  readonly link: TRPCLink<TRouter>;
  readonly state: ConnectionState;
  /** Calls `listener` on every change of state; returns the unsubscribe function. */
  onStateChange(listener: (state: ConnectionState) => void): () => void;
  reconnectNow(): void;
  /** Closes the socket; requests still waiting are forgotten. */
  dispose(): void;
}

/**
 * A tRPC link that owns one WebSocket and speaks tRPC's wire with superjson:
 * the handshake, queries, mutations and subscriptions (resumed with
 * `lastEventId` on every new socket), heartbeats, `subscription.stop`. The
 * connection (`connection.ts`) keeps the socket; the requests
 * (`requests.ts`) keep what was asked. No timer stands before a send.
 */
export function createTetherLink<TRouter extends AnyTRPCRouter>(options: ConnectionOptions): TetherLink<TRouter> {
  const listeners = new Set<(state: ConnectionState) => void>();
  const connection: Connection = new Connection(options, {
    opened: () => requests.opened(),
    message: (message) => requests.message(message as TRPCResponseMessage),
    lost: () => requests.lost(),
    changed: (state) => {
      if (state.state === 'closed') requests.close(new ClientClosedError(state.reason));
      // One listener's failure spares the others.
      for (const listener of [...listeners]) callUserCode(() => listener(state));
    },
  });
  const requests = new Requests(connection);
  const transformer = superjson;

  const link: TRPCLink<TRouter> =
    () =>
    ({ op }) =>
      observable((observer) => {
        const { status } = connection;
        if (status.state === 'closed') {
          observer.error(TRPCClientError.from(new ClientClosedError(status.reason)));
          return;
        }
        connection.start();
        const cancel = requests.start(op.type, op.path, transformer.serialize(op.input), undefined, {
          message(message) {
            const transformed = transformResult(message, transformer);
            if (transformed.ok) observer.next({ result: transformed.result, context: op.context });
            else observer.error(TRPCClientError.from(transformed.error));
          },
          lost: () => observer.error(TRPCClientError.from(new ConnectionLostError(op.path))),
          // As tRPC's own link: a subscription hears that its connection is being re-established.
          suspended: () =>
            observer.next({ result: { type: 'state', state: 'connecting', error: null }, context: op.context }),
          // As tRPC's own client closing: a subscription completes, a call still owed an answer fails.
          closed: (error) =>
            op.type === 'subscription' ? observer.complete() : observer.error(TRPCClientError.from(error)),
          complete: () => observer.complete(),
        });
        const onAbort = () => {
          cancel();
          observer.complete();
        };
        if (op.signal?.aborted) onAbort();
        else op.signal?.addEventListener('abort', onAbort, { once: true });
        return () => {
          op.signal?.removeEventListener('abort', onAbort);
          cancel();
        };
      });

  // Like tRPC's own client, it connects at once: a caller may wait for `connected` before its first call.
  connection.start();
  return {
    link,
    get state() {
      return connection.status;
    },
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    reconnectNow: () => connection.reconnectNow(),
    dispose() {
      connection.dispose();
    },
  };
}
