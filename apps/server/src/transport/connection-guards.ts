import { CloseCode } from '@tether/protocol';
import type { WebSocket } from 'ws';
import type { Config } from '../config';
import { closeHard } from './close-hard';
import { createTokenBucket } from './token-bucket';

export type GuardLimits = Pick<Config['limits'], 'messagesPerSecond' | 'messageBurst' | 'sendBufferBytes'>;

/**
 * Per-connection protection that needs no knowledge of tRPC:
 * - a message rate limit (token bucket): over it, close 4429;
 * - a send-buffer cap: a reader whose unsent data passes it is closed 4508, so
 *   a client that stops reading never grows server memory without bound.
 * Must be installed before tRPC's handler so its `send` goes through the cap.
 */
export function guardConnection(socket: WebSocket, limits: GuardLimits, onClosed: (code: CloseCode) => void): void {
  const bucket = createTokenBucket({ ratePerSecond: limits.messagesPerSecond, burst: limits.messageBurst });
  socket.on('message', () => {
    if (!bucket.take() && socket.readyState === socket.OPEN) {
      onClosed(CloseCode.RateLimited);
      closeHard(socket, CloseCode.RateLimited, 'message rate limit exceeded; slow down');
    }
  });

  const send = socket.send.bind(socket);
  socket.send = ((...args: Parameters<WebSocket['send']>) => {
    if (socket.readyState !== socket.OPEN) return;
    send(...args);
    if (socket.bufferedAmount > limits.sendBufferBytes) {
      onClosed(CloseCode.SlowConsumer);
      closeHard(socket, CloseCode.SlowConsumer, 'send buffer over its limit: reconnect and resume');
    }
  }) as WebSocket['send'];
}
