import type { AppRouter } from '@tether/protocol';
import { createTRPCClient, TRPCClientError, type TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';
import { describe, expect, it } from 'vitest';
import { idempotentRetryLink, isConnectionLoss, RequestTimeoutError, timeoutLink } from './links';

const connectionLoss = () => TRPCClientError.from({ type: 'close', code: 1006, reason: '' } as unknown as Error);

/**
 * A fake transport, because "the socket dropped while this mutation was in
 * flight" cannot be produced on demand with a real server: it fails the first
 * `failures` calls with a connection loss, then answers with the call count.
 * The real crash test (apps/server/test/faults) covers the same path end to end.
 */
function flakyTransport(failures: number): { link: TRPCLink<AppRouter>; calls: () => number } {
  let calls = 0;
  const link: TRPCLink<AppRouter> = () => () =>
    observable((observer) => {
      calls += 1;
      if (calls <= failures) observer.error(connectionLoss());
      else {
        observer.next({ result: { type: 'data', data: { calls } } });
        observer.complete();
      }
      return () => {};
    });
  return { link, calls: () => calls };
}

function clientOver(transport: TRPCLink<AppRouter>) {
  return createTRPCClient<AppRouter>({ links: [idempotentRetryLink(5), transport] });
}

const message = { roomId: '0b5f9f43-5b43-4e55-9b7a-3b9f0e7f6d1a', body: 'hi' };

describe('idempotent retry', () => {
  it('retries a keyed mutation after a connection loss, once per loss', async () => {
    const transport = flakyTransport(2);
    await clientOver(transport.link).messages.send.mutate({ ...message, idempotencyKey: 'key-12345678' });
    expect(transport.calls()).toBe(3);
  });

  it('never retries a mutation without a key', async () => {
    const transport = flakyTransport(1);
    await expect(
      clientOver(transport.link).messages.edit.mutate({ messageId: message.roomId, body: 'x' }),
    ).rejects.toThrow();
    expect(transport.calls()).toBe(1);
  });

  it('retries a query after a connection loss: a read is safe to repeat', async () => {
    const transport = flakyTransport(2);
    await expect(clientOver(transport.link).rooms.list.query()).resolves.toEqual({ calls: 3 });
  });
});

describe('isConnectionLoss', () => {
  it('recognises failures caused by the socket going away', () => {
    expect(isConnectionLoss(connectionLoss())).toBe(true);
    const closed = Object.assign(new Error('WebSocket closed'), { name: 'TRPCWebSocketClosedError' });
    expect(isConnectionLoss(TRPCClientError.from(closed))).toBe(true);
  });

  it('does not mistake a server answer for a lost connection', () => {
    const answered = TRPCClientError.from({
      error: { code: -32600, message: 'bad', data: { code: 'BAD_REQUEST', httpStatus: 400 } },
    });
    expect(isConnectionLoss(answered)).toBe(false);
    expect(isConnectionLoss(TRPCClientError.from(new Error('other')))).toBe(false);
  });
});

describe('timeoutLink', () => {
  it('fails a request that gets no answer in time with a readable error', async () => {
    const silent: TRPCLink<AppRouter> = () => () => observable(() => () => {});
    const client = createTRPCClient<AppRouter>({ links: [timeoutLink(20, () => 'reconnecting'), silent] });
    const error = await client.connection.health.query().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<AppRouter>).cause).toBeInstanceOf(RequestTimeoutError);
    expect((error as Error).message).toContain(
      'connection.health got no answer within 20 ms (connection: reconnecting)',
    );
  });
});
