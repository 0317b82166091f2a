import type { CommandIo } from './context';

/** The callbacks a tRPC subscription takes, as far as streaming commands use them. */
export interface StreamHandlers<T> {
  onData: (value: T) => void;
  onError: (error: unknown) => void;
  onComplete: () => void;
}

/**
 * Runs a subscription until it ends, fails, or the user interrupts (Ctrl-C):
 * an interruption is a clean end, an error rejects.
 */
export function streamUntilInterrupted<T>(
  io: CommandIo,
  subscribe: (handlers: StreamHandlers<T>) => { unsubscribe(): void },
  onData: (value: T) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const subscription = subscribe({ onData, onError: reject, onComplete: resolve });
    void io.interrupted.then(() => {
      subscription.unsubscribe();
      resolve();
    });
  });
}
