import type { CloseCode } from '@tether/protocol';
import type { WebSocket } from 'ws';

/** How long a peer gets to complete the close handshake before its socket is cut. */
export const CLOSE_GRACE_MS = 1_000;

/**
 * Closes with `code` and stops reading at once, for peers that misbehave
 * (floods, readers that stopped reading): such a peer may never answer the
 * close frame, so its socket is cut after a short grace instead of ws's 30 s.
 */
export function closeHard(socket: WebSocket, code: CloseCode, reason: string): void {
  if (socket.readyState === socket.CLOSED) return;
  socket.close(code, reason);
  socket.pause();
  setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
}
