/** The seq up to which a user has seen a room, per browser. */
const keyOf = (userId: string, roomId: string) => `tether.read.${userId}.${roomId}`;

export function readMarker(userId: string, roomId: string): number | null {
  const value = localStorage.getItem(keyOf(userId, roomId));
  return value === null ? null : Number(value);
}

export function markRead(userId: string, roomId: string, seq: number): void {
  if ((readMarker(userId, roomId) ?? -1) < seq) localStorage.setItem(keyOf(userId, roomId), String(seq));
}

/** Sets the marker back to `seq`: the server's room was reset, and the marker points past its newest event. */
export function resetReadMarker(userId: string, roomId: string, seq: number): void {
  localStorage.setItem(keyOf(userId, roomId), String(seq));
}
