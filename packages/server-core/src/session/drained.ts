import type { EventEmitter } from 'node:events';

/** A replay's next page waits until at most this much is left unsent to the peer. */
export const REPLAY_LOW_WATER_BYTES = 64 * 1024;

/**
 * Resolves at once when `bufferedBytes` is at most the low-water mark; else at
 * the stream's next `drain` (its buffer was over its own high-water mark, so
 * one comes) or `close`.
 */
export function drainedOf(stream: EventEmitter & { destroyed: boolean }, bufferedBytes: number): Promise<void> {
  // A closed stream drains no more: nothing waits on it.
  if (bufferedBytes <= REPLAY_LOW_WATER_BYTES || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}
