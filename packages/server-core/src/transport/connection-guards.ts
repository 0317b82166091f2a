import { CloseCode } from '@tether/protocol';
import type { WebSocket } from 'ws';
import type { Limits } from '../limits';
import { closeHard } from './close-hard';
import { createTokenBucket } from './token-bucket';

export type GuardLimits = Pick<Limits, 'messagesPerSecond' | 'messageBurst' | 'sendBufferBytes'>;

/** tRPC messages each carry a `"method"` key: counting them prices a batch frame by its calls without parsing it. */
const METHOD_KEY = Buffer.from('"method"');

function callsIn(data: unknown): number {
  const frames = Array.isArray(data) ? data : [data];
  let calls = 0;
  for (const frame of frames) {
    if (!Buffer.isBuffer(frame)) continue;
    for (let at = frame.indexOf(METHOD_KEY); at !== -1; at = frame.indexOf(METHOD_KEY, at + METHOD_KEY.length)) {
      calls += 1;
    }
  }
  return Math.max(1, calls);
}

/**
 * Per-connection protection that needs no knowledge of tRPC's internals:
 * - a message rate limit (token bucket, a batch frame costing one token per
 *   call): over it, close 4429;
 * - a send-buffer cap: a reader whose unsent data passes it is closed 4508, so
 *   a client that stops reading never grows server memory without bound.
 * The rate limit gates `emit('message')` itself, so neither the frame that
 * breaks the limit nor any frame after a close reaches tRPC's handler.
 * Must be installed before tRPC's handler so its `send` goes through the cap.
 */
export function guardConnection(socket: WebSocket, limits: GuardLimits, onClosed: (code: CloseCode) => void): void {
  const bucket = createTokenBucket({ ratePerSecond: limits.messagesPerSecond, burst: limits.messageBurst });
  const emit = socket.emit.bind(socket);
  socket.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (event === 'message') {
      if (socket.readyState !== socket.OPEN) return false;
      if (!bucket.take(callsIn(args[0]))) {
        onClosed(CloseCode.RateLimited);
        closeHard(socket, CloseCode.RateLimited, 'message rate limit exceeded; slow down');
        return false;
      }
    }
    return emit(event, ...args);
  }) as WebSocket['emit'];

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
