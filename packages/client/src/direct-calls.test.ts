import type { AppRouter } from '@tether/protocol';
import { TRPCClientError } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { isConnectionLoss, RequestTimeoutError } from './call-errors';
import { TetherUntypedClient } from './direct-calls';
import { ConnectionLostError } from './link/errors';
import type { LinkOperation, OperationConsumer, OperationRequest } from './link/link-operation';
import type { TetherLink } from './link/tether-link';
import { createTypedProxy } from './typed-proxy';

/**
 * A fake link, because "the connection dropped while this call was in
 * flight" cannot be produced on demand with a real server: it fails the
 * first `failures` attempts with a connection loss, then answers with the
 * attempt count (`silent`: never answers). The real crash tests
 * (apps/server/test/faults) cover the same path end to end.
 */
function fakeLink(failures: number, silent = false) {
  let attempts = 0;
  let cancelled = 0;
  const link = {
    start(request: OperationRequest, consumer: OperationConsumer) {
      attempts += 1;
      const attempt = attempts;
      queueMicrotask(() => {
        if (silent) return;
        if (attempt <= failures) consumer.error(TRPCClientError.from(new ConnectionLostError(request.path)));
        else consumer.data({ attempts: attempt }, undefined);
      });
      return { cancel: () => (cancelled += 1) } as unknown as LinkOperation;
    },
  } as unknown as TetherLink<AnyTRPCRouter>;
  const untyped = new TetherUntypedClient({ links: [] }, link, {
    timeoutMs: 50,
    attempts: 5,
    describeConnection: () => 'reconnecting',
  });
  return { client: createTypedProxy<AppRouter>(untyped), attempts: () => attempts, cancelled: () => cancelled };
}

const message = { roomId: '0b5f9f43-5b43-4e55-9b7a-3b9f0e7f6d1a', body: 'hi' };

describe('calls straight on the link', () => {
  it('retries a keyed mutation after a connection loss, once per loss', async () => {
    const link = fakeLink(2);
    const result = await link.client.messages.send.mutate({ ...message, idempotencyKey: 'key-12345678' });
    expect(result).toEqual({ attempts: 3 });
  });

  it('never retries a mutation without a key', async () => {
    const link = fakeLink(1);
    const error = await link.client.messages.edit.mutate({ messageId: message.roomId, body: 'x' }).catch((e) => e);
    expect(isConnectionLoss(error)).toBe(true);
    expect(link.attempts()).toBe(1);
  });

  it('retries a query after a connection loss: a read is safe to repeat', async () => {
    const link = fakeLink(2);
    await expect(link.client.rooms.list.query()).resolves.toEqual({ attempts: 3 });
  });

  it('gives up after the configured attempts', async () => {
    const link = fakeLink(10);
    await expect(link.client.rooms.list.query()).rejects.toThrow('the connection was lost');
    expect(link.attempts()).toBe(5);
  });

  it('fails a call that gets no answer in time with a readable error, and forgets it', async () => {
    const link = fakeLink(0, true);
    const error = await link.client.connection.health.query().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<AppRouter>).cause).toBeInstanceOf(RequestTimeoutError);
    expect((error as Error).message).toContain(
      'connection.health got no answer within 50 ms (connection: reconnecting)',
    );
    expect(link.cancelled()).toBe(1);
  });

  it('stops a call when its signal aborts', async () => {
    const link = fakeLink(0, true);
    const controller = new AbortController();
    const call = link.client.rooms.list.query(undefined, { signal: controller.signal });
    controller.abort(new Error('left the page'));
    await expect(call).rejects.toThrow('left the page');
    expect(link.cancelled()).toBe(1);
  });
});

describe('isConnectionLoss', () => {
  it('recognises failures caused by the connection going away', () => {
    expect(isConnectionLoss(TRPCClientError.from(new ConnectionLostError('x')))).toBe(true);
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
