/**
 * Runs code that belongs to someone else (a status listener, a request's
 * callbacks, which run the caller's handlers): if it throws, the runtime's
 * own bookkeeping still goes on, and the failure is raised again on its own,
 * as tRPC's `callUserCallback` does.
 */
export function callUserCode(code: () => void): void {
  try {
    code();
  } catch (cause) {
    raiseLater(cause);
  }
}

/** Raises `cause` on its own, after the runtime's bookkeeping (where a hot path catches without a closure). */
export function raiseLater(cause: unknown): void {
  queueMicrotask(() => {
    throw cause;
  });
}
