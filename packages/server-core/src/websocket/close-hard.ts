import type { CloseCode } from '@tether/protocol';
import type { WebSocket } from 'ws';

/** A close frame's reason holds at most 123 bytes of UTF-8 (ws throws past that): cut on a character boundary. */
export function closeReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  let cut = reason.slice(0, 123);
  while (Buffer.byteLength(cut) > 123) cut = cut.slice(0, -1);
  return cut;
}

/** How long a peer gets to complete the close handshake before its socket is cut. */
export const CLOSE_GRACE_MS = 1_000;

/**
 * Closes with `code` and stops reading at once, for peers that misbehave
 * (floods, readers that stopped reading): such a peer may never answer the
 * close frame, so its socket is cut after a short grace instead of ws's 30 s.
 */
export function closeHard(socket: WebSocket, code: CloseCode, reason: string): void {
  if (socket.readyState === socket.CLOSED) return;
  socket.close(code, closeReason(reason));
  socket.pause();
  setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
}
