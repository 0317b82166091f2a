import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import { isConnectionLoss } from './links';

describe('isConnectionLoss', () => {
  it('recognises failures caused by the socket going away', () => {
    expect(isConnectionLoss(TRPCClientError.from({ type: 'close', code: 1006, reason: '' } as unknown as Error))).toBe(
      true,
    );
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
